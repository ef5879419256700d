#!/bin/sh
# Installs fickle's pinned version into an isolated venv: target/adapters/fickle/venv.
exec "$(dirname "$0")/../venv_install.sh" fickle fickle==0.2.2
