#!/usr/bin/env bash
# Builds the other reference interpreters (CPython 3.9, 3.13, 3.14, 3.15, PyPy 3.9 and 3.11)
# from Debian's own packages, each in a minimal debootstrap chroot under target/pythons/, and
# writes one wrapper per interpreter in target/pythons/bin/:
#
#     target/pythons/bin/python3.14 -c CODE < file      # runs sid's python3.14, stdin/stdout through
#     target/pythons/bin/python3.14 --version           # the exact version
#
# A wrapper enters its chroot in a private mount namespace where the repository is bind-mounted
# read-only at its own path, so scripts and adapters run by their host path
# (`python3.14 conformance/adapters/cpython-c/adapter.py decode` works from the repo root). The
# mount vanishes with the process. target/pythons/manifest.json records where each interpreter
# came from: Debian suite, package and package version, and its exact version string.
#
# Idempotent: a finished chroot (marker file .brine-suite) is reused; an unfinished one is
# rebuilt. Needs root (debootstrap, chroot, mount); installs debootstrap with apt if missing.
# The host's /usr/bin/python3.11 stays the default reference and is not touched.
#
#     scripts/pythons.sh            # build what is missing (about 4-6 minutes from nothing)
#     scripts/pythons.sh --check    # only report what exists
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
ROOT=${BRINE_PYTHONS:-$REPO/target/pythons}
mkdir -p "$ROOT/bin"

if [ "$(id -u)" != 0 ]; then
    echo "pythons.sh: needs root (debootstrap, chroot, mount --bind)" >&2
    exit 1
fi

# suite -> packages. Every package a suite needs is in --include, so nothing runs apt-get
# update inside a chroot (sid's Release files may be past Valid-Until).
declare -A PACKAGES=(
    [bullseye]="python3"
    [bookworm]="pypy3"
    [trixie]="python3"
    [sid]="python3 python3.13 python3.15 pypy3"
)
SUITES="bullseye bookworm trixie sid"
# wrapper name -> suite, binary inside the chroot, Debian package, implementation.
WRAPPERS="
python3.9  bullseye /usr/bin/python3.9  python3.9  cpython
pypy3.9    bookworm /usr/bin/pypy3      pypy3      pypy
python3.13 trixie   /usr/bin/python3.13 python3.13 cpython
python3.14 sid      /usr/bin/python3.14 python3.14 cpython
python3.15 sid      /usr/bin/python3.15 python3.15 cpython
pypy3.11   sid      /usr/bin/pypy3      pypy3      pypy
"

mirror() {
    # The mirror apt already uses (deb822 or one-line sources), else Debian's CDN.
    local uri
    uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)
    [ -n "$uri" ] || uri=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n1 || true)
    echo "${uri:-http://deb.debian.org/debian}"
}

if [ "${1:-}" = "--check" ]; then
    for w in $(echo "$WRAPPERS" | awk 'NF {print $1}'); do
        if [ -x "$ROOT/bin/$w" ]; then echo "$w: $("$ROOT/bin/$w" --version 2>&1)"; else echo "$w: missing"; fi
    done
    exit 0
fi

if ! command -v debootstrap >/dev/null; then
    echo "pythons.sh: installing debootstrap" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
MIRROR=$(mirror)

build_suite() {
    local suite=$1 dir=$ROOT/$1 want=${PACKAGES[$1]}
    if [ -f "$dir/.brine-suite" ] && [ "$(cat "$dir/.brine-suite")" = "$want" ]; then
        echo "pythons.sh: $suite: present" >&2
        return
    fi
    echo "pythons.sh: $suite: debootstrap --variant=minbase --include=${want// /,} ($MIRROR)" >&2
    rm -rf "$dir"
    local script=$suite
    # bookworm's debootstrap has no script for suites newer than it knows; sid's fits them.
    [ -e "/usr/share/debootstrap/scripts/$suite" ] || script=/usr/share/debootstrap/scripts/sid
    local start=$SECONDS
    if ! debootstrap --variant=minbase --include="${want// /,}" "$suite" "$dir" "$MIRROR" "$script" \
        >"$ROOT/$suite.log" 2>&1; then
        echo "pythons.sh: $suite: debootstrap failed; last lines of $ROOT/$suite.log:" >&2
        tail -n 15 "$ROOT/$suite.log" >&2
        return 1
    fi
    # Nothing inside should ever reach out: drop the apt cache the build left behind.
    rm -rf "$dir/var/cache/apt/archives/"*.deb
    echo "$want" >"$dir/.brine-suite"
    echo "pythons.sh: $suite: built in $((SECONDS - start)) s, $(du -sm "$dir" | cut -f1) MB" >&2
}

write_wrapper() {
    local name=$1 suite=$2 binary=$3
    cat >"$ROOT/bin/$name" <<EOF
#!/bin/sh
# $name from Debian $suite (written by scripts/pythons.sh; see target/pythons/manifest.json).
# Runs $binary inside $ROOT/$suite with the repository bind-mounted read-only at its own
# path in a private mount namespace; arguments, stdin, stdout and exit status pass through.
exec unshare --mount --propagation private sh -c '
    root=\$1 repo=\$2 binary=\$3 cwd=\$4; shift 4
    mkdir -p "\$root\$repo" && mount --bind "\$repo" "\$root\$repo" && mount -o remount,bind,ro "\$root\$repo" || exit 125
    mount --bind /proc "\$root/proc" 2>/dev/null || true   # PyPy reads /proc/cpuinfo at start
    exec chroot "\$root" /bin/sh -c "cd \"\\\$1\" 2>/dev/null || cd /; shift; exec \"\\\$@\"" sh "\$cwd" "\$binary" "\$@"
' sh "$ROOT/$suite" "$REPO" "$binary" "\$(pwd)" "\$@"
EOF
    chmod +x "$ROOT/bin/$name"
}

failed=""
for suite in $SUITES; do
    build_suite "$suite" || failed="$failed $suite"
done

# The manifest: one entry per interpreter that exists.
entries=""
while read -r name suite binary package impl; do
    [ -n "$name" ] || continue
    dir=$ROOT/$suite
    if [ ! -f "$dir/.brine-suite" ] || [ ! -x "$dir$binary" ]; then
        echo "pythons.sh: $name: not available (suite $suite)" >&2
        rm -f "$ROOT/bin/$name"
        continue
    fi
    write_wrapper "$name" "$suite" "$binary"
    version=$("$ROOT/bin/$name" -c 'import sys, platform; print(platform.python_implementation(), sys.version.split()[0], "%d.%d" % sys.version_info[:2], int(__import__("importlib.util").util.find_spec("_pickle") is not None))')
    read -r implementation pyversion language cpickle <<<"$version"
    pkgversion=$(chroot "$dir" dpkg-query -W -f '${Version}' "$package" 2>/dev/null || echo unknown)
    entry=$(printf '{"name": "%s", "implementation": "%s", "version": "%s", "language_version": "%s", "c_pickle": %s, "suite": "%s", "package": "%s", "package_version": "%s", "binary": "%s", "wrapper": "target/pythons/bin/%s"}' \
        "$name" "$implementation" "$pyversion" "$language" "$([ "$cpickle" = 1 ] && echo true || echo false)" \
        "$suite" "$package" "$pkgversion" "$binary" "$name")
    entries="${entries:+$entries,
  }$entry"
    echo "pythons.sh: $name = $implementation $pyversion (Debian $suite $package $pkgversion)" >&2
done <<<"$WRAPPERS"
printf '[\n  %s\n]\n' "$entries" >"$ROOT/manifest.json"

if [ -n "$failed" ]; then
    echo "pythons.sh: failed suites:$failed" >&2
    exit 1
fi
