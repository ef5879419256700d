#!/bin/sh
# Installs Pyrolite (net.razorvine.pickle 1.5) into target/adapters/pyrolite: the jar ships
# inside PyPI's pyspark==4.3.0 source archive (deps/jars/pickle-1.5.jar; the archive is about
# 456 MB and has no smaller source), fetched with pip, the jar extracted and the archive
# deleted; then Adapter.java (beside this file) is compiled against it with javac (Java 17:
# apt default-jdk-headless when javac is missing). Rerunnable: the download is skipped when the
# jar is already there.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest="${BRINE_ADAPTERS_DIR:-$here/../../../target/adapters}/pyrolite"
mkdir -p "$dest"
if ! command -v javac >/dev/null; then
    apt-get install -y --no-install-recommends default-jdk-headless >&2
fi
if [ ! -f "$dest/pickle-1.5.jar" ]; then
    rm -rf "$dest/dl"
    /usr/bin/python3.11 -m pip download --quiet --disable-pip-version-check --no-input --no-deps \
        --no-binary :all: --no-build-isolation --dest "$dest/dl" pyspark==4.3.0
fi
if [ -d "$dest/dl" ]; then
    /usr/bin/python3.11 - "$dest" <<'PY'
import glob, hashlib, sys, tarfile
dest = sys.argv[1]
(archive,) = glob.glob(dest + "/dl/pyspark-4.3.0.tar.gz")
with tarfile.open(archive) as t:
    data = t.extractfile("pyspark-4.3.0/deps/jars/pickle-1.5.jar").read()
with open(dest + "/pickle-1.5.jar", "wb") as f:
    f.write(data)
print("extracted deps/jars/pickle-1.5.jar (%d bytes, sha256 %s) from pyspark-4.3.0.tar.gz"
      % (len(data), hashlib.sha256(data).hexdigest()))
PY
    rm -rf "$dest/dl"
fi
rm -rf "$dest/classes"
mkdir -p "$dest/classes"
javac -nowarn -encoding UTF-8 -cp "$dest/pickle-1.5.jar" -d "$dest/classes" "$here/Adapter.java"
echo "compiled Adapter.java against pickle-1.5.jar with $(javac -version 2>&1)"
