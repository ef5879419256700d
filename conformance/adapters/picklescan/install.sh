#!/bin/sh
# Installs picklescan's pinned version into an isolated venv: target/adapters/picklescan/venv.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest="${BRINE_ADAPTERS_DIR:-$here/../../../target/adapters}/picklescan"
if ! /usr/bin/python3.11 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "install.sh: python3.11-venv is missing; installing it with apt-get" >&2
    apt-get install -y python3.11-venv >&2
fi
rm -rf "$dest/venv"
mkdir -p "$dest"
/usr/bin/python3.11 -m venv "$dest/venv"
"$dest/venv/bin/pip" install --quiet --disable-pip-version-check --no-input picklescan==1.0.5
"$dest/venv/bin/pip" freeze --disable-pip-version-check > "$dest/freeze.txt"
cat "$dest/freeze.txt"
