#!/bin/sh
# Installs zodb-json-codec's pinned version (a Rust codec, PyO3 wheel) into an isolated venv:
# target/adapters/zodb-json-codec/venv.
exec "$(dirname "$0")/../venv_install.sh" zodb-json-codec zodb-json-codec==1.6.1
