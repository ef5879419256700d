#!/bin/sh
# Shared by the install.sh of the pip-installed Python adapters:
#
#   venv_install.sh NAME REQUIREMENT...
#
# installs the pinned REQUIREMENTs into an isolated venv, target/adapters/NAME/venv (or under
# $BRINE_ADAPTERS_DIR), and records `pip freeze` in NAME/freeze.txt.
set -eu
name=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
dest="${BRINE_ADAPTERS_DIR:-$here/../../target/adapters}/$name"
if ! /usr/bin/python3.11 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "install.sh: python3.11-venv is missing; installing it with apt-get" >&2
    apt-get install -y python3.11-venv >&2
fi
rm -rf "$dest/venv"
mkdir -p "$dest"
/usr/bin/python3.11 -m venv "$dest/venv"
"$dest/venv/bin/pip" install --quiet --disable-pip-version-check --no-input "$@"
"$dest/venv/bin/pip" freeze --disable-pip-version-check > "$dest/freeze.txt"
cat "$dest/freeze.txt"
