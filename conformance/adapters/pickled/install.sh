#!/bin/sh
# Builds the pickled adapter (pickled =2.0.0-alpha9 from crates.io, versions locked by the
# Cargo.lock beside this file) into target/adapters/pickled. Not a workspace member.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest="${BRINE_ADAPTERS_DIR:-$here/../../../target/adapters}/pickled"
mkdir -p "$dest"
cargo build --quiet --release --locked --manifest-path "$here/Cargo.toml" --target-dir "$dest"
cargo tree --quiet --locked --manifest-path "$here/Cargo.toml" --depth 1 -e normal
