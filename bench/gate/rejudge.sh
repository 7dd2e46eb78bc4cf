#!/usr/bin/env bash
# Judges the result files of a gate proof (bench/gate/proof.sh) again with the current gate rules,
# without measuring again: node dist/bench/gate/ci-gate.js --results FILE for each run.
#   npm run build && bench/gate/rejudge.sh [DIR]      # DIR default bench/results/gate-proof
set -u
cd "$(dirname "$0")/../.."
DIR=${1:-bench/results/gate-proof}
out="$DIR/rejudged.txt"
echo "rejudged $(date -u +%FT%TZ) with the gate at commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); expected: plain exit 0, handicap exit 1" > "$out"
for f in "$DIR"/plain-*.json "$DIR"/handicap-*.json; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .json)
  node dist/bench/gate/ci-gate.js --results "$f" > "$DIR/$name.rejudged.txt" 2>&1
  code=$?
  want=0; case "$name" in handicap-*) want=1 ;; esac
  verdict=$([ "$code" = "$want" ] && echo OK || echo WRONG)
  median=$(grep -o 'all cost_ratio (median of [0-9]* figures).*' "$DIR/$name.rejudged.txt" | grep -o '[-+][0-9.]*%' | head -1)
  echo "$name: exit $code ($verdict), median cost change ${median:-?}" | tee -a "$out"
done
