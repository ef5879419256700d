#!/bin/sh
# Builds the interpreter chroots (scripts/pythons.sh; idempotent, a few minutes from nothing)
# when pypy3.9 is missing, then checks that it runs.
here=$(cd "$(dirname "$0")" && pwd)
repo=$here/../../..
[ -x "$repo/target/pythons/bin/pypy3.9" ] || "$repo/scripts/pythons.sh" || exit 1
exec "$repo/target/pythons/bin/pypy3.9" --version
