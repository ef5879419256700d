#!/usr/bin/env bash
# Checks (and where missing, installs) what brine needs on a fresh Debian machine:
# Rust stable (cargo, clippy), Debian's CPython 3.11 with its shared library and headers (the oracle
# embeds it through PyO3; .cargo/config.toml pins PYO3_PYTHON=/usr/bin/python3.11).
# Idempotent: a machine that has everything is left untouched.
set -euo pipefail
need_apt=()
[ -x /usr/bin/python3.11 ] || need_apt+=(python3.11)
ls /usr/lib/x86_64-linux-gnu/libpython3.11.so* >/dev/null 2>&1 || [ -e "/usr/lib/$(uname -m)-linux-gnu/libpython3.11.so" ] || need_apt+=(libpython3.11-dev)
[ -e /usr/include/python3.11/Python.h ] || need_apt+=(libpython3.11-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}"
fi
command -v cargo >/dev/null || { echo "setup: cargo (Rust stable) is required" >&2; exit 1; }
# clippy: .ci/run lints with it. rustup toolchains add it as a component.
if ! cargo clippy --version >/dev/null 2>&1; then
  command -v rustup >/dev/null && { echo "setup: installing clippy (rustup component add clippy)" >&2; rustup component add clippy; }
  cargo clippy --version >/dev/null 2>&1 || { echo "setup: cargo clippy is required (rustup component add clippy)" >&2; exit 1; }
fi
echo "setup: $(/usr/bin/python3.11 --version), $(cargo --version), $(cargo clippy --version)"
