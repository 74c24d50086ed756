#!/usr/bin/env bash
# Beauty quality runs: trains SASRec and TIGER (one run per ID map) with a wall-time budget each,
# evaluates validation + test with full ranking (history items kept in the ranking, as in the
# published tables), and collects the runs' reports into RUN_DIR/seqrec_beauty.{json,md} next to
# the published figures (benchmarks/collect_seqrec.py; benchmarks/reports/seqrec_beauty.md is the
# curated account of the runs so far).
# usage: benchmarks/seqrec_beauty.sh STORE_DIR RUN_DIR "MAP1 MAP2 ..." [TIGER_MIN] [SASREC_MIN]
#   env: BUILD_DIR (default build), THREADS (default 2), PRECISION (fp32 | bf16, default fp32:
#        training and evaluation), EVAL_USERS (TIGER validation users per epoch, default 0 = all:
#        2,000 users are ~9% noisy on N@10, see compare_ranks.py; the reports before 2026-11-30
#        10:00 UTC used 2000), COOLDOWN_STEPS (TIGER: anneal the learning rate linearly over the
#        last N steps the time budget allows, default 0 = off; 2000 of ~11,800 steps gave +7% test
#        N@10 on LMIndexer IDs, seqrec_beauty.md session 13), ENCODER_INPUT (TIGER: tokens, the
#        published layout and the default, or items: one encoder position per history item, ~2.1x
#        the steps in the same time at half the memory, the same test N@10 within the seed spread
#        on rk_collab IDs, seqrec_beauty.md sessions 21-22),
#        EVAL_EVERY (TIGER: validate every N epochs, default 1), SKIP_TRAIN=1 (only collect reports)
#   Runs resume from RUN_DIR/<model> when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
store=$1; runs=$2; maps=$3; tiger_min=${4:-30}; sasrec_min=${5:-20}
bin=${BUILD_DIR:-build}/bin/recsys
threads=${THREADS:-2}
precision=${PRECISION:-fp32}
eval_users=${EVAL_USERS:-0}
cooldown=${COOLDOWN_STEPS:-0}
encoder_input=${ENCODER_INPUT:-tokens}
eval_every=${EVAL_EVERY:-1}
mkdir -p "$runs"
if [ -z "${SKIP_TRAIN:-}" ]; then
  "$bin" train --store "$store" --model sasrec --out "$runs/sasrec" --threads "$threads" \
    --batch-size 128 --lr 1e-3 --schedule constant --warmup-steps 0 --weight-decay 0 \
    --clip-norm 0 --beta2 0.98 --epochs 400 --max-minutes "$sasrec_min" --patience 10 \
    --precision "$precision" \
    --eval-every 5 --report "$runs/sasrec_report" 2>&1 | tee "$runs/sasrec.log"
  for m in $maps; do
    "$bin" train --store "$store" --model tiger --map "$m" --out "$runs/tiger_$m" \
      --threads "$threads" --batch-size 256 --lr 2e-3 --warmup-steps 500 --epochs 200 \
      --max-minutes "$tiger_min" --cooldown-steps "$cooldown" --patience 10 --eval-every "$eval_every" \
      --eval-users "$eval_users" --tiger.encoder-input "$encoder_input" \
      --precision "$precision" \
      --report "$runs/tiger_${m}_report" 2>&1 | tee "$runs/tiger_$m.log"
  done
fi
candidates=("SASRec (recsys)=$runs/sasrec_report.json")
for m in $maps; do candidates+=("TIGER (recsys) map $m=$runs/tiger_${m}_report.json"); done
reports=()
for r in "${candidates[@]}"; do
  if [ -f "${r#*=}" ]; then reports+=("$r"); fi
done
[ ${#reports[@]} -gt 0 ] || { echo "no reports in $runs" >&2; exit 1; }
/usr/bin/python3 benchmarks/collect_seqrec.py --published-beauty \
  --title "Beauty: TIGER vs SASRec, $threads threads, $precision, budgets TIGER $tiger_min / SASRec $sasrec_min min" \
  --json "$runs/seqrec_beauty.json" --md "$runs/seqrec_beauty.md" "${reports[@]}"
