#!/bin/sh
# Installs fickling's pinned version into an isolated venv: target/adapters/fickling/venv.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest="${BRINE_ADAPTERS_DIR:-$here/../../../target/adapters}/fickling"
if ! /usr/bin/python3.11 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "install.sh: python3.11-venv is missing; installing it with apt-get" >&2
    apt-get install -y python3.11-venv >&2
fi
rm -rf "$dest/venv"
mkdir -p "$dest"
/usr/bin/python3.11 -m venv "$dest/venv"
# fickling 0.1.12 imports typing_extensions on Python < 3.12 but declares it only in its
# dev/lint extras, so a plain `pip install fickling==0.1.12` gives a package that fails at import.
"$dest/venv/bin/pip" install --quiet --disable-pip-version-check --no-input fickling==0.1.12 typing_extensions==4.16.0
"$dest/venv/bin/pip" freeze --disable-pip-version-check > "$dest/freeze.txt"
cat "$dest/freeze.txt"
