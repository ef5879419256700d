#!/usr/bin/env bash
# OSS-Fuzz / ClusterFuzzLite build of brine's fuzz targets (.clusterfuzzlite/build.sh calls it).
#
#   OUT=target/oss-fuzz/out SRC=.. scripts/oss-fuzz-build.sh [--dry-run]
#
# Puts into $OUT, for every target in fuzz/fuzz_targets/:
#   <target>                   the libFuzzer binary (cargo fuzz build, sanitizer from $SANITIZER:
#                              address on OSS-Fuzz, none by default here)
#   <target>_seed_corpus.zip   its seeds: corpus/*.pkl for the pickle targets (decode, dis),
#                              generator bytes from `brine-fuzz seed` for the others
#   <target>.options           libFuzzer flags, and detect_leaks=0 under ASan for the targets
#                              that embed CPython (its allocator looks like leaks to LSan)
# and, because only $OUT reaches the fuzzing machines, the CPython 3.11 that `differential`
# and `encode_exact` embed:
#   lib/libpython3.11.so.1.0   found through the targets' rpath $ORIGIN/lib (fuzz/build.rs)
#   python/lib/python3.11/     the standard library (tests, GUI and packaging modules left
#                              out); brine_fuzz::init() points PYTHONHOME here at start-up.
# The carried interpreter must come from the same image as the binaries' glibc: on
# ClusterFuzzLite that is the CPython .clusterfuzzlite/Dockerfile builds into /opt/python3.11
# ($BRINE_FUZZ_PYTHON); locally it is /usr/bin/python3.11.
#
# --dry-run does everything but `cargo fuzz build` and copying the binaries (it still writes
# seeds, options and the Python tree, and prints the targets it would build): that is what
# crates/brine-fuzz/tests/oss_fuzz_build.rs runs on every `cargo test`; the same test's
# ignored half runs the whole build. BRINE_FUZZ_HELPER may name a built `brine-fuzz` helper
# (else it is built here, without OSS-Fuzz's sanitizer RUSTFLAGS).
set -euo pipefail

DRY_RUN=0
[[ "${1:-}" == "--dry-run" ]] && DRY_RUN=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${OUT:?set OUT to the output directory}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
PYTHON="${BRINE_FUZZ_PYTHON:-/usr/bin/python3.11}"
SANITIZER="${SANITIZER:-none}"
# Targets that embed CPython through PyO3.
PY_TARGETS=" differential encode_exact "

cd "$ROOT"
TARGETS=$(for f in fuzz/fuzz_targets/*.rs; do basename "$f" .rs; done | sort)
echo "targets: $(echo $TARGETS)"

# --- the binaries -------------------------------------------------------------------------
case "$SANITIZER" in
  address) SAN_ARGS=(--sanitizer address) ;;
  *)       SAN_ARGS=(--sanitizer none) ;;   # none, and coverage (OSS-Fuzz's cargo adds its flags)
esac
if [[ $DRY_RUN == 0 ]]; then
  command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz missing: scripts/install-fuzz-tools.sh" >&2; exit 1; }
  # PyO3 builds against the interpreter we carry (the environment wins over .cargo/config.toml).
  export PYO3_PYTHON="$PYTHON"
  if [[ $SANITIZER == address ]] && ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1   # -Zsanitizer on stable
  fi
  # -O with debug assertions: release speed, overflow checks kept (as `cargo xtask fuzz`).
  cargo fuzz build -O --debug-assertions "${SAN_ARGS[@]}"
  BIN_DIR="fuzz/target/x86_64-unknown-linux-gnu/release"
  for t in $TARGETS; do
    cp "$BIN_DIR/$t" "$OUT/$t"
  done
else
  echo "dry run: would build ${SAN_ARGS[*]} and copy: $(echo $TARGETS)"
fi

# --- seeds --------------------------------------------------------------------------------
HELPER="${BRINE_FUZZ_HELPER:-}"
if [[ -z "$HELPER" ]]; then
  # A plain host build: OSS-Fuzz's RUSTFLAGS/CFLAGS would instrument it for libFuzzer.
  env -u RUSTFLAGS -u CFLAGS -u CXXFLAGS -u LDFLAGS PYO3_PYTHON="$PYTHON" \
    cargo build --release -q -p brine-fuzz --bin brine-fuzz --target-dir "$ROOT/target/oss-fuzz/helper"
  HELPER="$ROOT/target/oss-fuzz/helper/release/brine-fuzz"
fi
SEEDS="$(mktemp -d)"
trap 'rm -rf "$SEEDS"' EXIT
for t in $TARGETS; do
  "$HELPER" seed --target "$t" --out "$SEEDS/$t" --corpus "$ROOT/corpus" >/dev/null
  rm -f "$OUT/${t}_seed_corpus.zip"
  (cd "$SEEDS/$t" && "$PYTHON" -m zipfile -c "$OUT/${t}_seed_corpus.zip" .)
done

# --- options ------------------------------------------------------------------------------
for t in $TARGETS; do
  timeout=10
  [[ "$PY_TARGETS" == *" $t "* ]] && timeout=30
  {
    echo "[libfuzzer]"
    echo "max_len = 8192"
    echo "timeout = $timeout"
    if [[ "$PY_TARGETS" == *" $t "* ]]; then
      echo "[asan]"
      echo "detect_leaks = 0"
    fi
  } > "$OUT/$t.options"
done

# --- the CPython the PyO3 targets embed -------------------------------------------------------
pyvar() { "$PYTHON" -c "import sysconfig; print(sysconfig.get_config_var('$1') or '')"; }
LIBDIR="$(pyvar LIBDIR)"
SONAME="$(pyvar INSTSONAME)"
LIB=""
for cand in "$LIBDIR/$SONAME" "$LIBDIR/$(pyvar MULTIARCH)/$SONAME"; do
  [[ -f "$cand" ]] && LIB="$cand" && break
done
[[ -n "$LIB" ]] || { echo "no $SONAME under $LIBDIR: $PYTHON must be built with --enable-shared" >&2; exit 1; }
mkdir -p "$OUT/lib"
cp -L "$LIB" "$OUT/lib/$SONAME"
STDLIB="$("$PYTHON" -c "import sysconfig; print(sysconfig.get_paths()['stdlib'])")"
rm -rf "$OUT/python"
mkdir -p "$OUT/python/lib/python3.11"
tar -C "$STDLIB" \
  --exclude=__pycache__ --exclude=./test --exclude=./idlelib --exclude=./tkinter \
  --exclude=./turtledemo --exclude=./ensurepip --exclude=./lib2to3 --exclude=./site-packages \
  --exclude=./dist-packages --exclude='./config-3.11*' --exclude='./lib-dynload/_test*' \
  -cf - . | tar -C "$OUT/python/lib/python3.11" -xf -
# lib-dynload outside the stdlib directory (some layouts): bring it in.
DYNLOAD="$("$PYTHON" -c "import _json, os; print(os.path.dirname(_json.__file__))" 2>/dev/null || true)"
if [[ -n "$DYNLOAD" && ! -d "$OUT/python/lib/python3.11/lib-dynload" && -d "$DYNLOAD" ]]; then
  cp -r "$DYNLOAD" "$OUT/python/lib/python3.11/lib-dynload"
fi

echo "built into $OUT:"
for t in $TARGETS; do
  printf '  %-14s %s\n' "$t" "$([[ -f "$OUT/$t" ]] && echo binary || echo '(dry run: no binary)'), ${t}_seed_corpus.zip, $t.options"
done
echo "  lib/$SONAME, python/lib/python3.11 ($(du -sh "$OUT/python" | cut -f1))"
