#!/bin/sh
# Nothing to install: this adapter runs Debian's /usr/bin/python3.11 and the standard library.
exec "$(dirname "$0")/../python_check.sh"
