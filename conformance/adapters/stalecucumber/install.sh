#!/bin/sh
# Installs stalecucumber from Debian (apt: golang-go, Go 1.19, and
# golang-github-hydrogen18-stalecucumber-dev 0.0~git20180226.6de214d-1, its sources under
# /usr/share/gocode) and builds the adapter (main.go beside this file) against it, GOPATH mode,
# into target/adapters/stalecucumber/adapter (the Go build cache goes there too).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest="${BRINE_ADAPTERS_DIR:-$here/../../../target/adapters}/stalecucumber"
pkg=golang-github-hydrogen18-stalecucumber-dev
version=0.0~git20180226.6de214d-1
if [ "$(dpkg-query -W -f '${Version}' $pkg 2>/dev/null)" != "$version" ] || ! command -v go >/dev/null; then
    apt-get install -y --no-install-recommends golang-go "$pkg=$version" >&2
fi
src=$(dpkg -L $pkg | grep '/src/github.com/hydrogen18/stalecucumber$')
gopath=${src%/src/github.com/hydrogen18/stalecucumber}
mkdir -p "$dest"
GO111MODULE=off GOPATH="$gopath" GOCACHE="$dest/gocache" GOFLAGS= \
    go build -o "$dest/adapter" "$here/main.go"
echo "built $dest/adapter with $(go version) against $pkg $version (GOPATH=$gopath)"
