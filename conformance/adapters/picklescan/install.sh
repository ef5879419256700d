#!/bin/sh
# Installs picklescan's pinned version into an isolated venv: target/adapters/picklescan/venv.
exec "$(dirname "$0")/../venv_install.sh" picklescan picklescan==1.0.5
