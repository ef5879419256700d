#!/bin/sh
# Installs zodbpickle's pinned version into an isolated venv: target/adapters/zodbpickle/venv.
exec "$(dirname "$0")/../venv_install.sh" zodbpickle zodbpickle==4.5
