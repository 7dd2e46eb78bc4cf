#!/usr/bin/env bash
# The gate's proof on this machine: N runs of ci-gate on the unchanged tree (each must pass,
# exit 0) and N runs with --handicap 15% (the bridges under test do 15% more CPU work per
# event; each must fail, exit 1), alternating so a busy spell hits both kinds alike.
# Logs and result files go to bench/results/gate-proof/ (OUT=...), with summary.txt, the
# baseline judged against (baseline.json) and each run's exit code (KIND-I.exit.json), from which
# npm run bench:docs generates the README's proof table.
#   npm run build && bench/gate/proof.sh            # N=5 by default
set -u
cd "$(dirname "$0")/../.."
N=${N:-5}
OUT=${OUT:-bench/results/gate-proof}
mkdir -p "$OUT"
cp bench/gate/baseline.json "$OUT/baseline.json"
summary="$OUT/summary.txt"
echo "gate proof started $(date -u +%FT%TZ) at commit $(git rev-parse --short HEAD 2>/dev/null || echo "(not a git checkout)"), $(nproc) cores; expected: plain exit 0, handicap exit 1" > "$summary"
for i in $(seq 1 "$N"); do
  for kind in plain handicap; do
    args=()
    [ "$kind" = handicap ] && args=(--handicap 15%)
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    node dist/bench/gate/ci-gate.js "${args[@]}" --baseline "$OUT/baseline.json" --json "$OUT/$kind-$i.json" > "$OUT/$kind-$i.txt" 2> "$OUT/$kind-$i.progress.txt"
    code=$?
    printf '{"kind":"%s","run":%d,"exit":%d,"load_average_before":"%s","finished":"%s"}\n' "$kind" "$i" "$code" "$load" "$(date -u +%FT%TZ)" > "$OUT/$kind-$i.exit.json"
    want=0; [ "$kind" = handicap ] && want=1
    verdict=$([ "$code" = "$want" ] && echo OK || echo WRONG)
    echo "$kind run $i: exit $code ($verdict), load average before: $load, $(date -u +%T)" | tee -a "$summary"
  done
done
