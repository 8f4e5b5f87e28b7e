#!/usr/bin/env bash
# Prints the raw, gzip -9 and brotli -q 11 sizes of what a page downloads
# for mezzo, and fails when mezzo.wasm exceeds the brotli budget.
set -euo pipefail
dist=${1:-web/dist}
budget=${MEZZO_BROTLI_BUDGET:-1220000}
command -v brotli >/dev/null || { echo "size.sh: brotli missing (apt-get install brotli)" >&2; exit 1; }
printf '%-16s %10s %10s %10s\n' file raw gzip brotli
total=(0 0 0)
for f in mezzo.wasm wasm_exec.js mezzo.js mezzo-worker.js; do
  raw=$(wc -c <"$dist/$f"); gz=$(gzip -9c "$dist/$f" | wc -c); br=$(brotli -q 11 -c "$dist/$f" | wc -c)
  printf '%-16s %10d %10d %10d\n' "$f" "$raw" "$gz" "$br"
  total=($((total[0]+raw)) $((total[1]+gz)) $((total[2]+br)))
  [ "$f" = mezzo.wasm ] && wasm_br=$br
done
printf '%-16s %10d %10d %10d\n' total "${total[@]}"
if [ "$wasm_br" -gt "$budget" ]; then
  echo "size.sh: mezzo.wasm is $wasm_br bytes after brotli, over the budget of $budget" >&2
  exit 1
fi
