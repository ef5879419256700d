#!/bin/sh
# Installs modelaudit-picklescan's pinned version (a Rust scanner, PyPI abi3 wheel) into an
# isolated venv: target/adapters/modelaudit-picklescan/venv.
exec "$(dirname "$0")/../venv_install.sh" modelaudit-picklescan modelaudit-picklescan==0.1.12
