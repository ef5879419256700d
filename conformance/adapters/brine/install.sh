#!/bin/sh
# Builds brine itself (release), whose `brine adapter` speaks the adapter protocol.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../../.."
cargo build --quiet --release -p brine-cli
./target/release/brine adapter decode < /dev/null >/dev/null || true
echo "brine $(grep -m1 '^version' Cargo.toml)"
