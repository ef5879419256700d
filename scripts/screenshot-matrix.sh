#!/bin/sh
# Renders docs/matrix.html in headless Chromium (Debian's `chromium`, installed through apt
# when missing) at desktop width (1400 px) and phone width (390 px), to look at before a
# matrix lands: target/screenshots/matrix-1400.png and matrix-390.png.
set -eu
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { apt-get install -y -q chromium >/dev/null; }
mkdir -p target/screenshots
for size in 1400,1800 390,1600; do
    w=${size%,*}
    profile=$(mktemp -d)
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --user-data-dir="$profile" --hide-scrollbars --window-size="$size" \
        --screenshot="$PWD/target/screenshots/matrix-$w.png" "file://$PWD/docs/matrix.html" 2>/dev/null
    rm -rf "$profile"
    echo "target/screenshots/matrix-$w.png"
done
