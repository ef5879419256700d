#!/usr/bin/env bash
# Installs the tools `cargo xtask fuzz` and `cargo xtask triage` need, pinned:
#
#   scripts/install-fuzz-tools.sh
#
# - cargo-fuzz (builds the targets in fuzz/ with libFuzzer, minimizes crashes);
# - a C++ compiler, which libfuzzer-sys needs to build libFuzzer itself (on Debian:
#   build-essential; checked, not installed, since it needs root and apt).
#
# Nothing else in brine installs these silently: xtask names this script when they are
# missing. Works on stable Rust: xtask runs `cargo fuzz ... --sanitizer none` by default and
# sets RUSTC_BOOTSTRAP=1 only for `--asan`.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2

have_version() {
    cargo fuzz --version 2>/dev/null | grep -q " ${CARGO_FUZZ_VERSION}\$"
}

if have_version; then
    echo "cargo-fuzz ${CARGO_FUZZ_VERSION} already installed"
else
    cargo install cargo-fuzz --version "${CARGO_FUZZ_VERSION}" --locked
fi

if ! command -v c++ >/dev/null 2>&1 && ! command -v clang++ >/dev/null 2>&1; then
    echo "warning: no C++ compiler found; libfuzzer-sys needs one (apt-get install build-essential)" >&2
fi
cargo fuzz --version
