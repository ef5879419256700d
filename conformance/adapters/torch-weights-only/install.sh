#!/bin/sh
# Fetches PyTorch's pinned wheel (torch==2.15.0, about 540 MB: there is no smaller one) into
# target/adapters/torch-weights-only/, extracts only torch/_weights_only_unpickler.py from it
# and deletes the wheel. The unpickler then runs against the inert torch stub beside this file
# (stub/torch), on /usr/bin/python3.11; nothing else of PyTorch is installed. Rerunnable: the
# download is skipped when the file for this version was already extracted.
set -eu
version=2.15.0
here=$(cd "$(dirname "$0")" && pwd)
dest="${BRINE_ADAPTERS_DIR:-$here/../../../target/adapters}/torch-weights-only"
mkdir -p "$dest"
if [ "$(cat "$dest/version" 2>/dev/null)" = "$version" ] && [ -f "$dest/_weights_only_unpickler.py" ]; then
    echo "torch $version: $dest/_weights_only_unpickler.py already extracted"
    exit 0
fi
rm -rf "$dest/wheel" "$dest/version" "$dest/_weights_only_unpickler.py"
/usr/bin/python3.11 -m pip download --quiet --disable-pip-version-check --no-input --no-deps \
    --only-binary :all: --dest "$dest/wheel" "torch==$version"
/usr/bin/python3.11 - "$dest" "$version" <<'PY'
import glob, hashlib, sys, zipfile
dest, version = sys.argv[1], sys.argv[2]
(wheel,) = glob.glob(dest + "/wheel/torch-%s-*.whl" % version)
with zipfile.ZipFile(wheel) as z:
    data = z.read("torch/_weights_only_unpickler.py")
with open(dest + "/_weights_only_unpickler.py", "wb") as f:
    f.write(data)
print("extracted torch/_weights_only_unpickler.py (%d bytes, sha256 %s) from %s"
      % (len(data), hashlib.sha256(data).hexdigest(), wheel.rsplit("/", 1)[-1]))
PY
rm -rf "$dest/wheel"
echo "$version" > "$dest/version"
