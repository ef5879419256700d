#!/bin/sh
# Installs fickling's pinned version into an isolated venv: target/adapters/fickling/venv.
# fickling 0.1.12 imports typing_extensions on Python < 3.12 but declares it only in its
# dev/lint extras, so a plain `pip install fickling==0.1.12` gives a package that fails at import.
exec "$(dirname "$0")/../venv_install.sh" fickling fickling==0.1.12 typing_extensions==4.16.0
