#!/usr/bin/env bash
# Ingest benchmark: `recsys data prepare` (gz files -> RocksDB store) against the plain-Python
# reference (../shared/bench/python_ingest_reference.py: gzip + json + ast.literal_eval + sort +
# split, no store), interleaved runs on the same files; wall time and peak RSS via /usr/bin/time.
# usage: benchmarks/ingest_report.sh [DATASET_DIR] [RUNS]   (build first: scripts/setup.sh)
# writes benchmarks/reports/ingest_<name>.json and .md
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/datasets/amazon2014-beauty}
runs=${2:-5}
bin=${BUILD_DIR:-build}/bin/recsys
name=$(basename "$data")
reviews=$(ls "$data"/reviews_*.json.gz | head -1)
meta=$(ls "$data"/meta_*.json.gz | head -1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ours=(); ref=(); ours_mem=(); ref_mem=()
for i in $(seq "$runs"); do
  /usr/bin/time -f "%e %M" -o "$tmp/t" "$bin" data prepare --input "$data" --store "$tmp/store" \
    --overwrite --log-level warning >/dev/null
  read -r t m < "$tmp/t"; ours+=("$t"); ours_mem+=("$m")
  /usr/bin/time -f "%e %M" -o "$tmp/t" /usr/bin/python3 ../shared/bench/python_ingest_reference.py \
    "$reviews" "$meta" >/dev/null
  read -r t m < "$tmp/t"; ref+=("$t"); ref_mem+=("$m")
done
median() {  # the middle value, or the mean of the two middle ones for an even count
  printf '%s\n' "$@" | sort -g |
    awk '{a[NR]=$1} END {print NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'
}
mo=$(median "${ours[@]}"); mr=$(median "${ref[@]}")
po=$(median "${ours_mem[@]}"); pr=$(median "${ref_mem[@]}")
ratio=$(awk -v a="$mr" -v b="$mo" 'BEGIN {printf "%.2f", a / b}')
date=$(date -u +%Y-%m-%d)
cores=$(nproc)
cat > "benchmarks/reports/ingest_$name.json" <<JSON
{"dataset": "$name", "date": "$date", "cores": $cores, "runs": $runs,
 "recsys_seconds_median": $mo, "recsys_peak_kb": $po,
 "python_reference_seconds_median": $mr, "python_reference_peak_kb": $pr,
 "speedup": $ratio,
 "recsys_seconds": [$(IFS=,; echo "${ours[*]}")], "python_seconds": [$(IFS=,; echo "${ref[*]}")]}
JSON
cat > "benchmarks/reports/ingest_$name.md" <<MD
# Ingest benchmark: $name ($date, $cores cores)

Command: \`benchmarks/ingest_report.sh $data $runs\` (interleaved runs, median; wall time and peak RSS
from /usr/bin/time; whole processes, startup included).

| | wall (s) | peak RSS (MiB) |
|---|---|---|
| recsys data prepare (gz -> RocksDB store) | $mo | $(awk "BEGIN {printf \"%d\", $po / 1024}") |
| python_ingest_reference.py (no store) | $mr | $(awk "BEGIN {printf \"%d\", $pr / 1024}") |

Speed-up: **${ratio}x** (goal: >= 3x, store included, < 300 MB).
MD
cat "benchmarks/reports/ingest_$name.md"
