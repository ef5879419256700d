#!/bin/sh
# Runs a differential campaign (`brine campaign`, what `cargo xtask fuzz --impl NAME` runs)
# against each adapter named, LANES of them at a time, then regenerates docs/findings.md.
#
#   scripts/campaigns.sh [-l LANES] NAME[=DURATION] ...     (DURATION defaults to 10m)
#
# Each campaign gets --jobs 1 so that LANES campaigns share LANES cores. The brine binary is
# built once and copied, so that editing the workspace while campaigns run changes nothing.
# Logs: target/campaigns/NAME.log; results: target/campaigns/NAME/.
set -eu
cd "$(dirname "$0")/.."
lanes=2
if [ "${1:-}" = "-l" ]; then lanes=$2; shift 2; fi
[ $# -gt 0 ] || { echo "usage: $0 [-l LANES] NAME[=DURATION] ..." >&2; exit 2; }
[ -n "${BRINE_BIN:-}" ] || cargo build --release -q -p brine-cli --bin brine
mkdir -p target/campaigns
bin=target/campaigns/brine.bin
[ -n "${BRINE_BIN:-}" ] && bin=$BRINE_BIN || cp "${CARGO_TARGET_DIR:-target}/release/brine" "$bin"
lane() {
    for spec in "$@"; do
        name=${spec%%=*}
        t=10m
        [ "$name" = "$spec" ] || t=${spec#*=}
        # A campaign that fails at once (the corpus being regenerated under it, an adapter
        # mid-install) is tried again a few times before it counts as failed.
        tries=0
        while :; do
            echo "$(date -u +%H:%M:%S) start $name ($t)"
            started=$(date +%s)
            if "$bin" campaign --impl "$name" --time "$t" --jobs 1 --quiet >"target/campaigns/$name.log" 2>&1; then
                echo "$(date -u +%H:%M:%S) done  $name: $(grep -m1 -E 'cases' "target/campaigns/$name.log" || true)"
                break
            fi
            tries=$((tries + 1))
            if [ $(($(date +%s) - started)) -lt 30 ] && [ $tries -lt 5 ]; then
                echo "$(date -u +%H:%M:%S) retry $name in 30 s: $(head -n 1 "target/campaigns/$name.log")"
                sleep 30
                continue
            fi
            echo "$(date -u +%H:%M:%S) FAILED $name (target/campaigns/$name.log)"
            break
        done
    done
}
# Deal the names round-robin into lanes.
i=0
pids=""
while [ $i -lt "$lanes" ]; do
    set_i=""
    j=0
    for spec in "$@"; do
        [ $((j % lanes)) -eq $i ] && set_i="$set_i $spec"
        j=$((j + 1))
    done
    # shellcheck disable=SC2086
    lane $set_i &
    pids="$pids $!"
    i=$((i + 1))
done
status=0
for p in $pids; do wait "$p" || status=1; done
"$bin" findings
exit $status
