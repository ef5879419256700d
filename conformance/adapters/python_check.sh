#!/bin/sh
# Shared by the install.sh of the adapters that run Debian's /usr/bin/python3.11 and its
# standard library: nothing to install, only a check that the interpreter is the pinned one
# (the version adapter.json records).
set -eu
want=3.11.2
got=$(/usr/bin/python3.11 -c 'import platform; print(platform.python_version())') || {
    echo "install.sh: /usr/bin/python3.11 is missing (apt-get install -y python3.11)" >&2; exit 1; }
if [ "$got" != "$want" ]; then
    echo "install.sh: /usr/bin/python3.11 is $got, adapter.json pins $want" >&2; exit 1
fi
echo "python3.11 $got"
