#!/usr/bin/env bash
# Throughput scaling and peak memory of `skintex analyze` (issue 6 item 4).
#
#   benches/scaling.sh [MEGAPIXELS] [COUNT]     (defaults: 12 MP, 4 photos)
#
# Generates COUNT realistic phantoms of about MEGAPIXELS (square, 20 px/mm), then runs the analysis with
# --jobs 1 and --jobs 2 under /usr/bin/time -v (Debian package `time`) and prints wall time,
# speed-up, CPU time and peak RSS. Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
mp=${1:-12}
count=${2:-4}
bin=target/release/skintex
[ -x "$bin" ] || cargo build --release
side=$(python3 -c "import math; print(round(math.sqrt($mp * 1e6)))")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Realistic phantoms (pores, furrows, hairs, any light) of side/20 mm at exactly 20 px/mm.
fov=$(python3 -c "print($side / 20)")
"$bin" phantom --preset realistic --out "$work/in" --count "$count" --fov-mm "$fov" --px-per-mm 20 \
  --seed 9 >/dev/null
rm -f "$work"/in/*.json
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $count phantoms of ${side}x${side} px ($mp MP), --roi full --px-per-mm 20 --no-qc"
declare -A wall
for jobs in 1 2; do
  /usr/bin/time -v "$bin" analyze "$work/in" --roi full --px-per-mm 20 --no-qc --quiet \
    --jobs "$jobs" --out "$work/out$jobs" 2> "$work/time$jobs" || true
  w=$(grep "Elapsed (wall" "$work/time$jobs" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  u=$(grep "User time" "$work/time$jobs" | awk '{print $NF}')
  s=$(grep "System time" "$work/time$jobs" | awk '{print $NF}')
  rss=$(grep "Maximum resident" "$work/time$jobs" | awk '{print $NF}')
  wall[$jobs]=$w
  awk -v j="$jobs" -v w="$w" -v n="$count" -v u="$u" -v s="$s" -v r="$rss" 'BEGIN {
    printf "--jobs %s: wall %6.1f s (%.2f s/photo), CPU %.1f s, peak RSS %d MiB\n", j, w, w / n, u + s, r / 1024 }'
done
cmp "$work/out1/metrics.csv" "$work/out2/metrics.csv" && echo "metrics.csv identical for --jobs 1 and 2"
awk -v a="${wall[1]}" -v b="${wall[2]}" 'BEGIN { printf "speed-up --jobs 2 vs 1: %.2fx\n", a / b }'
