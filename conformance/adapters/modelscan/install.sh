#!/bin/sh
# Installs modelscan's pinned version into an isolated venv: target/adapters/modelscan/venv.
exec "$(dirname "$0")/../venv_install.sh" modelscan modelscan==0.8.8
