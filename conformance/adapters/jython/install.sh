#!/bin/sh
# Installs Jython 2.7.3 from Debian (apt: jython 2.7.3+repack1-1, and Java) and checks that it
# runs. Nothing goes under target/: the adapter runs /usr/share/java/jython.jar directly.
set -eu
version=2.7.3+repack1-1
if [ "$(dpkg-query -W -f '${Version}' jython 2>/dev/null)" != "$version" ]; then
    apt-get install -y --no-install-recommends "jython=$version" >&2
fi
here=$(cd "$(dirname "$0")" && pwd)
dest="${BRINE_ADAPTERS_DIR:-$here/../../../target/adapters}/jython"
mkdir -p "$dest"
java -jar /usr/share/java/jython.jar -Dpython.home=/usr/share/jython -c 'import sys; print "jython", sys.version.split()[0]'
