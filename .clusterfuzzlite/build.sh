#!/bin/bash -eu
# ClusterFuzzLite build: everything is in scripts/oss-fuzz-build.sh (which also runs locally:
# OUT=target/oss-fuzz/out scripts/oss-fuzz-build.sh). The interpreter the PyO3 targets embed
# and carry into $OUT is the one the Dockerfile built.
cd "$SRC/brine"
export BRINE_FUZZ_PYTHON=/opt/python3.11/bin/python3.11
export LD_LIBRARY_PATH="/opt/python3.11/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
scripts/oss-fuzz-build.sh
