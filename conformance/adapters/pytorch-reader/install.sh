#!/bin/sh
# Builds the pytorch-reader adapter (pytorch-reader =0.22.1 from crates.io, versions locked by
# the Cargo.lock beside this file) into target/adapters/pytorch-reader. Not a workspace member.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest="${BRINE_ADAPTERS_DIR:-$here/../../../target/adapters}/pytorch-reader"
mkdir -p "$dest"
cargo build --quiet --release --locked --manifest-path "$here/Cargo.toml" --target-dir "$dest"
cargo tree --quiet --locked --manifest-path "$here/Cargo.toml" --depth 1 -e normal
