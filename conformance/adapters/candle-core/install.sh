#!/bin/sh
# Builds the candle-core adapter (candle-core =0.11.1 from crates.io, no default features, versions
# locked by the Cargo.lock beside this file) into target/adapters/candle-core. Not a workspace
# member. About 2.5 minutes on 2 cores the first time.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest="${BRINE_ADAPTERS_DIR:-$here/../../../target/adapters}/candle-core"
mkdir -p "$dest"
cargo build --quiet --release --locked --manifest-path "$here/Cargo.toml" --target-dir "$dest"
cargo tree --quiet --locked --manifest-path "$here/Cargo.toml" --depth 1 -e normal
