#!/bin/sh
# Installs jpickle's pinned version with npm into target/adapters/jpickle.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest="${BRINE_ADAPTERS_DIR:-$here/../../../target/adapters}/jpickle"
command -v node >/dev/null || { echo "install.sh: node is missing (apt-get install -y nodejs npm)" >&2; exit 1; }
rm -rf "$dest"
mkdir -p "$dest"
npm install --silent --no-audit --no-fund --save-exact --prefix "$dest" jpickle@0.4.1
node -e 'const p = require(process.argv[1] + "/node_modules/jpickle/package.json"); console.log(p.name + " " + p.version + " (node " + process.version + ")")' "$dest"
