#!/usr/bin/env bash
# End-to-end checks of the recsys command line on the test fixtures: help, bad usage, --config
# precedence, data prepare / stats / lookup, the store left by a failed ingest, and a tiny
# index (text and collaborative features) -> train -> evaluate run (per-user ranks, list options),
# benchmarks/train_curve.py on a 3-epoch training log and benchmarks/collect_seqrec.py on the
# evaluation reports.
# usage: cli_smoke_test.sh RECSYS_BINARY FIXTURES_DIR
set -uo pipefail
bin=$1
fixtures=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() {  # check NAME EXPECTED_RC CMD...
  local name=$1 want=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL $name: exit $rc, expected $want"; cat "$tmp/out" "$tmp/err"; fail=1
  else
    echo "ok   $name"
  fi
}
expect_in() {  # expect_in NAME FILE TEXT
  if ! grep -qF -- "$3" "$2"; then echo "FAIL $1: '$3' not in output"; cat "$2"; fail=1; fi
}

check "no command prints usage" 2 "$bin"
check "top-level help" 0 "$bin" --help
expect_in "help lists data" "$tmp/out" "data"
check "unknown command" 2 "$bin" frobnicate
# The LibTorch commands come from bin/librecsys_ml.so, loaded on first use.
check "module command runs" 0 "$bin" index methods
expect_in "module lists rkmeans" "$tmp/out" "rkmeans"
check "module command help" 0 "$bin" train --help
expect_in "train help" "$tmp/out" "--max-minutes"
RECSYS_ML_MODULE=/nonexistent.so "$bin" index methods >"$tmp/out" 2>"$tmp/err"
[ $? = 1 ] && grep -q "cannot load the LibTorch commands" "$tmp/err" \
  && echo "ok   missing module is a clear error" \
  || { echo "FAIL missing module"; cat "$tmp/err"; fail=1; }
check "command help" 0 "$bin" data prepare --help
expect_in "prepare help shows --kcore" "$tmp/out" "--kcore"
check "unknown option is one line" 2 "$bin" data prepare --bogus
[ "$(wc -l <"$tmp/err")" = 1 ] || { echo "FAIL error is not one line"; cat "$tmp/err"; fail=1; }
check "missing required option" 2 "$bin" data prepare --input x
check "bad enum value" 2 "$bin" data prepare --input "$fixtures/amazon2014" --store "$tmp/s" --format csv

check "prepare fixture" 0 "$bin" data prepare --input "$fixtures/amazon2014" --store "$tmp/s"
expect_in "prepare prints users" "$tmp/out" "users              3"
check "prepare refuses to overwrite" 2 "$bin" data prepare --input "$fixtures/amazon2014" --store "$tmp/s"
mkdir "$tmp/plain" && touch "$tmp/plain/keep"
check "--overwrite spares what is not a store" 2 "$bin" data prepare --input "$fixtures/amazon2014" \
  --store "$tmp/plain" --overwrite
expect_in "names a non-store" "$tmp/err" "exists and is not a recsys store"
[ -e "$tmp/plain/keep" ] || { echo "FAIL --overwrite removed a directory that is not a store"; fail=1; }
check "store path with a trailing slash" 0 "$bin" data prepare --input "$fixtures/amazon2014" \
  --store "$tmp/slash/"
check "the same store without it" 0 "$bin" data stats --store "$tmp/slash"
check "stats" 0 "$bin" data stats --store "$tmp/s"
expect_in "stats split" "$tmp/out" "validation 2 users, test 2 users"

# --config: values from the file apply, the command line wins.
printf 'input = %s\nstore = %s\nkcore = 2\noverwrite = true\n' "$fixtures/amazon2014" "$tmp/s" >"$tmp/c.ini"
check "config file" 0 "$bin" data prepare --config "$tmp/c.ini"
expect_in "config kcore applied" "$tmp/out" "users              2"
check "command line beats config" 0 "$bin" data prepare --config "$tmp/c.ini" --kcore 0
expect_in "cli kcore wins" "$tmp/out" "users              3"
check "missing config file" 2 "$bin" data prepare --config "$tmp/none.ini"

check "lookup by item" 0 "$bin" lookup --store "$tmp/s" --item I2
expect_in "lookup title" "$tmp/out" "L'Oreal Paris"
check "lookup unknown item" 1 "$bin" lookup --store "$tmp/s" --item nope
check "lookup needs one mode" 2 "$bin" lookup --store "$tmp/s"
check "lookup missing store" 1 "$bin" lookup --store "$tmp/none" --index 0
check "lookup unknown map" 1 "$bin" lookup --store "$tmp/s" --map x --prefix 1
check "negative unsigned option" 2 "$bin" lookup --store "$tmp/s" --map x --prefix 1 --limit -1
expect_in "names the option" "$tmp/err" "--limit must not be negative, got -1"
check "lookup index beyond 32 bits" 1 "$bin" lookup --store "$tmp/s" --index 4294967296
expect_in "no wrap-around" "$tmp/err" "no item with index 4294967296"

# Malformed input: the error names file and line, and no store appears.
printf '{"reviewerID": "U1", "asin": "I1", "unixReviewTime": 1}\n{"reviewerID": 5\n' >"$tmp/reviews_Bad1_5.json"
check "malformed record" 2 "$bin" data prepare --reviews "$tmp/reviews_Bad1_5.json" --store "$tmp/bad"
expect_in "names file:line" "$tmp/err" "reviews_Bad1_5.json:2"
[ ! -e "$tmp/bad" ] || { echo "FAIL failed ingest left a store"; fail=1; }
check "skip malformed" 0 "$bin" data prepare --reviews "$tmp/reviews_Bad1_5.json" --store "$tmp/bad" --on-bad-record skip
expect_in "skip counted" "$tmp/out" "skipped records    1"

# Pipelines: sections become commands, [pipeline] keys go to every step.
printf '[pipeline]\nstore = %s\n[prepare]\ninput = %s\noverwrite = true\n[lookup.x]\nitem = I1\n' \
  "$tmp/p" "$fixtures/amazon2014" >"$tmp/p.ini"
check "pipeline dry run" 0 "$bin" pipeline "$tmp/p.ini" --dry-run
expect_in "dry run shows prepare" "$tmp/out" "recsys data prepare --input $fixtures/amazon2014 --overwrite=true --store $tmp/p"
check "pipeline runs" 0 "$bin" pipeline "$tmp/p.ini"
expect_in "pipeline lookup ran" "$tmp/out" "OPI Nail Lacquer"
printf '[frobnicate]\nx = 1\n' >"$tmp/bad.ini"
check "pipeline unknown section" 2 "$bin" pipeline "$tmp/bad.ini"
expect_in "names the line" "$tmp/err" "bad.ini:1"
printf '[prepare]\ninput = %s\nstore = %s\noverwrite = false\n' "$fixtures/amazon2014" "$tmp/p" \
  >"$tmp/off.ini"
check "pipeline, a switch off" 2 "$bin" pipeline "$tmp/off.ini"
expect_in "switch off: the store is kept" "$tmp/err" "already exists (pass --overwrite to replace it)"
check "a switch given true on the command line" 0 "$bin" data prepare --input \
  "$fixtures/amazon2014" --store "$tmp/p" --overwrite=true
# An option that takes true / false keeps its value (here: do not resume).
printf '[index]\nstore = %s\nmethod = lmindexer\nresume = false\n' "$tmp/p" >"$tmp/lm.ini"
check "pipeline, a true/false option" 0 "$bin" pipeline "$tmp/lm.ini" --dry-run
expect_in "false passed on" "$tmp/out" "recsys index --store $tmp/p --method lmindexer --resume=false"
printf 'method = lmindexer\n' >"$tmp/lmmethod.ini"
check "index --config picks lmindexer" 0 "$bin" index --config "$tmp/lmmethod.ini" --help
expect_in "lmindexer's options" "$tmp/out" "--lm-tokenizer-model"
# index assign: IDs for new items from a trained LMIndexer. A line of text only is named by its
# line number, never taken for the store's item of that external id (here item "2").
mkdir "$tmp/num"
for u in $(seq 6); do
  for j in $(seq 5); do
    printf '{"reviewerID": "U%d", "asin": "%d", "unixReviewTime": %d}\n' "$u" $(((u + j) % 6 + 1)) "$j"
  done
done >"$tmp/num/reviews_Num_5.json"
for i in $(seq 6); do
  printf "{'asin': '%d', 'title': 'shade number %d polish'}\n" "$i" "$i"
done >"$tmp/num/meta_Num.json"
check "prepare numeric ids" 0 "$bin" data prepare --input "$tmp/num" --store "$tmp/n"
check "index lmindexer" 0 "$bin" index --store "$tmp/n" --method lmindexer --name lm --levels 1 \
  --codebook-size 2 --lm-epochs 1 --lm-d-model 8 --lm-heads 1 --lm-encoder-layers 1 \
  --lm-feedforward 16 --lm-tokenizer-vocab 30 --lm-max-text-length 6 --lm-batch-size 4
printf '1\tshade number 1 polish\nshade number 9 polish\n' >"$tmp/new.tsv"
check "index assign" 0 "$bin" index assign --store "$tmp/n" --name lm --items "$tmp/new.tsv"
expect_in "a stored item" "$tmp/out" "existing"
if ! grep -q "^line:2	.*	new$" "$tmp/out"; then
  echo "FAIL a text-only line is not named line:2 and new"; cat "$tmp/out"; fail=1
fi
# 7 new items over 2 codes of 6 stored items: some suffix goes beyond the map's (its largest group).
for i in $(seq 7); do echo "new shade $i polish"; done >"$tmp/seven.txt"
check "index assign beyond the suffixes" 0 "$bin" index assign --store "$tmp/n" --name lm \
  --items "$tmp/seven.txt"
expect_in "warns of suffixes beyond the map" "$tmp/err" "beyond the suffixes of map 'lm'"
# A new keyed item listed twice gets one ID.
printf 'N9\tshade number 9 polish\nN9\tshade number 9 polish\n' >"$tmp/twice.tsv"
check "index assign, an item listed twice" 0 "$bin" index assign --store "$tmp/n" --name lm \
  --items "$tmp/twice.tsv"
[ "$(cut -f2 "$tmp/out" | sort -u | wc -l)" = 1 ] \
  || { echo "FAIL an item listed twice got two IDs"; cat "$tmp/out"; fail=1; }
# A dry run keeps its own checkpoint; a model retrained into the map's checkpoint is refused.
lm_options=(--levels 1 --codebook-size 2 --lm-epochs 1 --lm-d-model 8 --lm-heads 1
  --lm-encoder-layers 1 --lm-feedforward 16 --lm-tokenizer-vocab 30 --lm-max-text-length 6
  --lm-batch-size 4 --seed 9)
check "lmindexer dry run" 0 "$bin" index --store "$tmp/n" --method lmindexer --name lm \
  "${lm_options[@]}" --dry-run
[ -f "$tmp/n.lm.dry-run.ckpt" ] || { echo "FAIL the dry run has no checkpoint of its own"; fail=1; }
check "index assign after a dry run" 0 "$bin" index assign --store "$tmp/n" --name lm \
  --items "$tmp/new.tsv"
check "retrain into the map's checkpoint" 0 "$bin" index --store "$tmp/n" --method lmindexer \
  --name lm "${lm_options[@]}" --dry-run --resume 0 --checkpoint "$tmp/n.lm.ckpt"
check "index assign refuses another model" 2 "$bin" index assign --store "$tmp/n" --name lm \
  --items "$tmp/new.tsv"
expect_in "names the model" "$tmp/err" "is not the model that made map 'lm'"
# A tiny TIGER: 12 users x 6 reviews over 8 items (generated here; the fixture users are too short
# to train on): index, a few training steps, evaluate with per-user ranks.
mkdir "$tmp/seq"
for u in $(seq 12); do
  for j in $(seq 6); do
    printf '{"reviewerID": "U%d", "asin": "I%d", "unixReviewTime": %d}\n' "$u" $(((u + j) % 8)) "$j"
  done
done >"$tmp/seq/reviews_Seq_5.json"
for i in $(seq 0 7); do
  printf "{'asin': 'I%d', 'title': 'item %d shade'}\n" "$i" "$i"
done >"$tmp/seq/meta_Seq.json"
check "prepare sequences" 0 "$bin" data prepare --input "$tmp/seq" --store "$tmp/q"
check "index random" 0 "$bin" index --store "$tmp/q" --method random --levels 2 --codebook-size 4
check "lookup the whole map" 0 "$bin" lookup --store "$tmp/q" --map random --prefix "" --limit 100
[ "$(wc -l <"$tmp/out")" = 8 ] || { echo "FAIL the whole map is not 8 items"; cat "$tmp/out"; fail=1; }
check "lookup up to --limit" 0 "$bin" lookup --store "$tmp/q" --map random --prefix "" --limit 3
[ "$(wc -l <"$tmp/out")" = 3 ] || { echo "FAIL --limit 3 printed otherwise"; cat "$tmp/out"; fail=1; }
expect_in "says it stopped" "$tmp/err" "(stopped at --limit 3)"
check "lookup exactly --limit items" 0 "$bin" lookup --store "$tmp/q" --map random --prefix "" \
  --limit 8
[ "$(wc -l <"$tmp/out")" = 8 ] && ! grep -q "stopped at" "$tmp/err" \
  || { echo "FAIL --limit 8 of 8 items"; cat "$tmp/out" "$tmp/err"; fail=1; }
check "lookup --limit 0" 2 "$bin" lookup --store "$tmp/q" --map random --prefix "" --limit 0
check "lookup a short --id" 2 "$bin" lookup --store "$tmp/q" --map random --id 1
expect_in "names the length" "$tmp/err" "--id 1 has 1 tokens, the IDs of map 'random' have"
check "bad map name, before the work" 2 "$bin" index --store "$tmp/q" --method random --levels 2 \
  --codebook-size 4 --name "my map"
expect_in "names the rule" "$tmp/err" "may only contain letters"
check "bad --features, before the store" 2 "$bin" index --store "$tmp/absent" --method kmeans \
  --features npy
expect_in "names what npy needs" "$tmp/err" "--features npy needs --npy and --npy-keys"
check "index with collaborative features" 0 "$bin" index --store "$tmp/q" --method kmeans \
  --codebook-size 2 --collab-weight 1 --collab-dims 4 --name collab --json "$tmp/collab.json"
expect_in "map config names them" "$tmp/collab.json" '"encoder": "ppmi_svd"'
expect_in "held-out items logged" "$tmp/err" "last 2 items of each user held out"
check "negative --collab-weight" 2 "$bin" index --store "$tmp/q" --method kmeans \
  --codebook-size 2 --collab-weight -1
expect_in "weight error" "$tmp/err" "--collab-weight must be >= 0"
check "zero --collab-window" 2 "$bin" index --store "$tmp/q" --method kmeans \
  --codebook-size 2 --collab-weight 1 --collab-window 0
# Collaborative features from a trained SASRec's item embeddings.
check "train tiny sasrec" 0 "$bin" train --store "$tmp/q" --model sasrec --out "$tmp/sas" \
  --sasrec.d-model 8 --max-steps 3 --batch-size 4 --no-test
check "index with sasrec features" 0 "$bin" index --store "$tmp/q" --method kmeans \
  --codebook-size 2 --collab-weight 1 --collab-checkpoint "$tmp/sas" --name sas \
  --json "$tmp/sas.json"
expect_in "map config names sasrec" "$tmp/sas.json" '"encoder": "sasrec"'
check "--collab-checkpoint without weight" 2 "$bin" index --store "$tmp/q" --method kmeans \
  --codebook-size 2 --collab-checkpoint "$tmp/sas"
expect_in "needs a weight" "$tmp/err" "--collab-checkpoint needs --collab-weight > 0"
check "--collab-checkpoint of another store" 2 "$bin" index --store "$tmp/s" --method kmeans \
  --codebook-size 2 --collab-weight 1 --collab-checkpoint "$tmp/sas"
expect_in "names both stores" "$tmp/err" "not on this store's"
check "bad --ks" 2 "$bin" train --store "$tmp/q" --map random --out "$tmp/ck" --ks 5,x
expect_in "bad --ks named" "$tmp/err" "--ks: 'x' is not an integer"
check "train tiny tiger" 0 "$bin" train --store "$tmp/q" --map random --out "$tmp/ck" \
  --tiger.d-model 16 --tiger.heads 2 --tiger.head-dim 8 --tiger.d-ff 32 \
  --tiger.encoder-layers 1 --tiger.decoder-layers 1 --max-steps 3 --batch-size 4 --no-test
check "train again at its step limit" 0 "$bin" train --store "$tmp/q" --map random --out "$tmp/ck" \
  --tiger.d-model 16 --tiger.heads 2 --tiger.head-dim 8 --tiger.d-ff 32 \
  --tiger.encoder-layers 1 --tiger.decoder-layers 1 --max-steps 3 --batch-size 4 --no-test
expect_in "nothing left to train" "$tmp/err" "has reached its step limit (step 3"
expect_in "still 3 steps" "$tmp/out" "for 3 steps"
check "recommend --k 0" 2 "$bin" recommend --store "$tmp/q" --checkpoint "$tmp/ck" --history I1 \
  --k 0
expect_in "k named" "$tmp/err" "--k must be at least 1, got 0"
check "evaluate on another store" 2 "$bin" evaluate --store "$tmp/s" --checkpoint "$tmp/sas"
expect_in "names both" "$tmp/err" "items, the store '$tmp/s' has"
# (timeout: a serve that wrongly accepted the model would listen until killed)
check "serve on another store" 2 timeout 60 "$bin" serve --store "$tmp/s" --model "$tmp/sas" \
  --port 0
expect_in "serve names both" "$tmp/err" "items, the store '$tmp/s' has"
# evaluate, recommend and serve load a checkpoint the same way (recsys/cli/checkpoint.h).
check "evaluate where the model's map is not" 1 "$bin" evaluate --store "$tmp/s" \
  --checkpoint "$tmp/ck"
expect_in "names the map and the model" "$tmp/err" \
  "no ID map 'random' in '$tmp/s' (maps: none): the model in '$tmp/ck' was trained on it"
check "recommend where the model's map is not" 1 "$bin" recommend --store "$tmp/s" \
  --checkpoint "$tmp/ck" --history I1
expect_in "recommend names the map" "$tmp/err" "the model in '$tmp/ck' was trained on it"
check "serve where the model's map is not" 1 timeout 60 "$bin" serve --store "$tmp/s" \
  --model "$tmp/ck" --port 0
expect_in "serve names the map" "$tmp/err" "the model in '$tmp/ck' was trained on it"
check "--collab-checkpoint of a tiger" 2 "$bin" index --store "$tmp/q" --method kmeans \
  --codebook-size 2 --collab-weight 1 --collab-checkpoint "$tmp/ck"
expect_in "names the model" "$tmp/err" "holds a tiger model; item embeddings come from a SASRec"
check "evaluate with ranks" 0 "$bin" evaluate --store "$tmp/q" --checkpoint "$tmp/ck" \
  --ks 1,5 --beam 3 --ranks "$tmp/ranks.tsv" --report "$tmp/rep"
expect_in "every cut-off printed" "$tmp/out" "recall@1 "
expect_in "every cut-off in the table" "$tmp/rep.md" "| R@1 | N@1 | R@5 | N@5 | seconds |"
expect_in "the beam searched: at least the largest K" "$tmp/rep.json" '"beam_size": 5'
expect_in "ranks header" "$tmp/ranks.tsv" "checkpoint	split	user	target	rank"
users=$(awk 'NR > 1 && $2 == "test"' "$tmp/ranks.tsv" | wc -l)
reported=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print([x["users"] for x in r if x["split"]=="test"][0])' "$tmp/rep.json")
if [ "$users" -lt 1 ] || [ "$users" != "$reported" ]; then
  echo "FAIL ranks rows: $users test rows, report says $reported users"; fail=1
else
  echo "ok   ranks rows ($users test users)"
fi
check "evaluate last weights" 0 "$bin" evaluate --store "$tmp/q" --checkpoint "$tmp/ck" \
  --weights last --split test --report "$tmp/rep_last"
expect_in "report says last" "$tmp/rep_last.json" '"weights": "last"'
expect_in "report says how long it trained" "$tmp/rep_last.json" '"steps": "3"'
expect_in "report says why it stopped" "$tmp/rep_last.json" '"stop reason": "max_steps"'
check "bad --weights" 2 "$bin" evaluate --store "$tmp/q" --checkpoint "$tmp/ck" --weights worst
expect_in "bad --weights named" "$tmp/err" "best or last, got 'worst'"
check "serve, bad --weights" 2 "$bin" serve --store "$tmp/q" --model "$tmp/ck" --port 0 \
  --weights worst
expect_in "serve names the choices" "$tmp/err" "best or last, got 'worst'"
# serve with a real model: a recommendation over HTTP through the model adapter, then SIGTERM
# ends the server with exit 0.
"$bin" serve --store "$tmp/q" --model "$tmp/ck" --port 0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
serve_pid=$!
port=""
for _ in $(seq 1 600); do
  port=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$tmp/serve.out")
  [ -n "$port" ] || ! kill -0 "$serve_pid" 2>/dev/null && break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "FAIL serve with a model did not start"; cat "$tmp/serve.out" "$tmp/serve.err"; fail=1
  kill "$serve_pid" 2>/dev/null
else
  check "recommend over HTTP" 0 python3 - "$port" <<'PY'
import json, sys, urllib.request
body = json.dumps({"history": ["I1", "I2"], "k": 3, "exclude_history": True}).encode()
request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/v1/recommend", data=body,
                                 headers={"Content-Type": "application/json"})
reply = json.load(urllib.request.urlopen(request, timeout=60))
ids = [item["external_id"] for item in reply["items"]]
assert "I1" not in ids and "I2" not in ids, ids
print(reply["model"], len(ids), "items")
PY
  expect_in "a TIGER's 3 items" "$tmp/out" "tiger 3 items"
  kill -TERM "$serve_pid"
  wait "$serve_pid"
  rc=$?
  if [ "$rc" = 0 ]; then echo "ok   serve ends on SIGTERM"; else
    echo "FAIL serve exit $rc after SIGTERM"; cat "$tmp/serve.err"; fail=1; fi
fi
# SIGTERM while training: a checkpoint where it stands, exit 128 + 15, and the same command resumes.
"$bin" train --store "$tmp/q" --map random --out "$tmp/cki" --tiger.d-model 16 --tiger.heads 2 \
  --tiger.head-dim 8 --tiger.d-ff 32 --tiger.encoder-layers 1 --tiger.decoder-layers 1 \
  --epochs 100000 --eval-every 1000 --batch-size 4 --no-test >"$tmp/int_out" 2>"$tmp/int_err" &
pid=$!
for _ in $(seq 300); do grep -q "training tiger" "$tmp/int_err" && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ "$rc" != 143 ] || ! grep -q "interrupted after" "$tmp/int_out"; then
  echo "FAIL SIGTERM while training: exit $rc"; cat "$tmp/int_out" "$tmp/int_err"; fail=1
else
  echo "ok   SIGTERM while training"
fi
expect_in "interrupted checkpoint is unfinished" "$tmp/cki/state.ini" "finished = 0"
check "evaluate the interrupted checkpoint" 0 "$bin" evaluate --store "$tmp/q" \
  --checkpoint "$tmp/cki" --weights last --split test --report "$tmp/rep_int"
expect_in "report says interrupted" "$tmp/rep_int.json" '"stop reason": "interrupted, not finished'
steps=$(sed -n 's/^step = //p' "$tmp/cki/state.ini")
check "resume after SIGTERM" 0 "$bin" train --store "$tmp/q" --map random --out "$tmp/cki" \
  --tiger.d-model 16 --tiger.heads 2 --tiger.head-dim 8 --tiger.d-ff 32 \
  --tiger.encoder-layers 1 --tiger.decoder-layers 1 --epochs 100000 --eval-every 1000 \
  --batch-size 4 --no-test --max-steps $((steps + 2))
expect_in "resumed where it stopped" "$tmp/err" "resuming $tmp/cki at epoch"
expect_in "two more steps" "$tmp/out" "for $((steps + 2)) steps"
# benchmarks/train_curve.py on the training log of a 3-epoch run (one validation per epoch).
check "train 3 epochs" 0 "$bin" train --store "$tmp/q" --map random --out "$tmp/ck3" \
  --tiger.d-model 16 --tiger.heads 2 --tiger.head-dim 8 --tiger.d-ff 32 \
  --tiger.encoder-layers 1 --tiger.decoder-layers 1 --epochs 3 --batch-size 12 --eval-every 1 \
  --patience 5 --no-test
check "resume, 4th epoch at another lr" 0 "$bin" train --store "$tmp/q" --map random \
  --out "$tmp/ck3" --tiger.d-model 16 --tiger.heads 2 --tiger.head-dim 8 --tiger.d-ff 32 \
  --tiger.encoder-layers 1 --tiger.decoder-layers 1 --epochs 4 --batch-size 12 --eval-every 1 \
  --patience 5 --no-test --lr 0.01
curve=$(dirname "$0")/../../benchmarks/train_curve.py
check "train curve" 0 python3 "$curve" "tiny=$tmp/ck3:4" --target 0.99
expect_in "curve names the change" "$tmp/out" "Resumed at step 9 (epoch 3) with changed settings: train.lr 0.002 -> 0.01"
expect_in "curve fitted" "$tmp/out" "Fit over 3 validations (steps 3-9, epochs 4 left out)"
check "train curve, no log" 1 python3 "$curve" "tiny=$tmp/nothing"
expect_in "curve names the log" "$tmp/err" "no training log at '$tmp/nothing'"
# Two checkpoints in one evaluation (e.g. one per seed): mean and spread, rows named by checkpoint;
# benchmarks/compare_ranks.py on their per-user ranks.
check "evaluate two checkpoints" 0 "$bin" evaluate --store "$tmp/q" --checkpoint "$tmp/ck" \
  "$tmp/ck3" --split test --ranks "$tmp/ranks2.tsv" --report "$tmp/rep2"
expect_in "mean and spread" "$tmp/out" "mean +- std over 2 checkpoints"
expect_in "report row names its checkpoint" "$tmp/rep2.md" "| $tmp/ck3 | test |"
expect_in "training notes per checkpoint" "$tmp/rep2.json" "\"epochs ($tmp/ck3)\": \"4\""
expect_in "settings that differ, per checkpoint" "$tmp/rep2.json" \
  "\"config train.batch_size ($tmp/ck3)\": \"12\""
expect_in "settings shared, in the config" "$tmp/rep2.json" '"tiger.d_model": "16"'
# An ensemble: TIGER and SASRec as one model (mean probability), in evaluate and recommend.
check "evaluate an ensemble" 0 "$bin" evaluate --store "$tmp/q" --checkpoint "$tmp/ck" "$tmp/sas" \
  --ensemble --split test --precision fp32 --report "$tmp/rep_ens"
expect_in "ensemble named" "$tmp/out" "$tmp/ck+$tmp/sas  test"
expect_in "ensemble report" "$tmp/rep_ens.json" '"model": "ensemble(tiger+sasrec)"'
check "recommend with an ensemble" 0 "$bin" recommend --store "$tmp/q" --checkpoint "$tmp/ck" \
  "$tmp/sas" --history I1,I2 --k 3
expect_in "ensemble recommends" "$tmp/out" "ensemble(tiger+sasrec) recommendations after 2"
check "recommend --history with spaces" 0 "$bin" recommend --store "$tmp/q" --checkpoint \
  "$tmp/sas" --history "I1, I2" --k 3
expect_in "spaces around ids ignored" "$tmp/out" "recommendations after 2 history items"
collect=$(dirname "$0")/../../benchmarks/collect_seqrec.py
check "collect reports" 0 python3 "$collect" "one=$tmp/rep_last.json" "two=$tmp/rep2.json" \
  --json "$tmp/table.json"
expect_in "collect: training of the weights" "$tmp/out" "| one | tiger | random | 42 | last | 3 steps, 0 min (max_steps) |"
expect_in "collect: two runs, mean and spread" "$tmp/out" "| two | tiger | random | 2 runs | best | 3 steps"
expect_in "collect: every run's figures kept" "$tmp/table.json" '"values": ['
check "collect, keeping earlier rows" 0 python3 "$collect" "one=$tmp/rep2.json" \
  --keep "$tmp/table.json" --json "$tmp/table2.json"
expect_in "collect: a new label replaces its kept row" "$tmp/out" "| one | tiger | random | 2 runs |"
if [ "$(grep -c '^| one |' "$tmp/out")" != 1 ]; then echo "FAIL collect: 'one' twice"; fail=1; fi
expect_in "collect: other rows kept" "$tmp/out" "| two | tiger | random | 2 runs | best |"
expect_in "collect: kept rows carry their date" "$tmp/table2.json" '"collected": "'
check "collect, keep a non-table" 1 python3 "$collect" "one=$tmp/rep2.json" --keep "$tmp/rep2.json"
expect_in "collect names the earlier file" "$tmp/err" "is not a --json output of collect_seqrec.py"
check "collect, not a report" 1 python3 "$collect" "x=$tmp/ranks2.tsv"
expect_in "collect names the file" "$tmp/err" "cannot read report '$tmp/ranks2.tsv'"
compare=$(dirname "$0")/../../benchmarks/compare_ranks.py
check "compare ranks" 0 python3 "$compare" "$tmp/ranks2.tsv" --label "$tmp/ck=one" \
  --label "$tmp/ck3=three" --subset 5
expect_in "compare: per run" "$tmp/out" "| three | test | 12 |"
expect_in "compare: paired" "$tmp/out" "| one | three | test | 12 |"
check "compare ranks, not a ranks file" 1 python3 "$compare" "$tmp/rep2.md"
expect_in "compare names the file" "$tmp/err" "not a ranks file of recsys evaluate"
# Exact figures from hand-made ranks: 3 users with a known rank each, over hand-made reviews.
printf 'checkpoint\tsplit\tuser\ttarget\trank\n' >"$tmp/hand.tsv"
printf 'x\tvalidation\tU1\tc\t2\nx\tvalidation\tU2\td\t\nx\tvalidation\tU3\ta\t1\n' >>"$tmp/hand.tsv"
printf 'x\ttest\tU1\td\t1\nx\ttest\tU2\ta\t3\nx\ttest\tU3\tb\t\n' >>"$tmp/hand.tsv"
check "compare hand-made ranks" 0 python3 "$compare" "$tmp/hand.tsv" --ks 5
expect_in "compare: R@5 and N@5 of ranks 1, 3, none" "$tmp/out" \
  "| x | test | 3 | 0.6667 +- 0.3333 | 0.5000 +- 0.2887 |"
sed 's/\tU2\ta\t3/\tU2\tb\t3/; s/^x\t/y\t/' "$tmp/hand.tsv" >"$tmp/other.tsv"
check "compare runs of other data" 1 python3 "$compare" "$tmp/hand.tsv" "$tmp/other.tsv"
expect_in "compare names the user" "$tmp/err" "user U2 has target a in one and b in the other"
check "compare beyond the cutoff" 1 python3 "$compare" "$tmp/hand.tsv" --ks 10,50
expect_in "compare names the cutoff" "$tmp/err" "--ks 50 is beyond --cutoff 20"
shift_py=$(dirname "$0")/../../benchmarks/split_shift.py
for u in 1 2 3; do
  printf '{"reviewerID": "U%d", "asin": "%s", "unixReviewTime": %d}\n' \
    $u a $((u == 1 ? 1 : u == 2 ? 4 : 3)) $u b $((u == 1 ? 2 : u == 2 ? 1 : 4)) \
    $u c $((u == 1 ? 3 : u == 2 ? 2 : 1)) $u d $((u == 1 ? 4 : u == 2 ? 3 : 2))
done >"$tmp/hand_reviews.json"  # U1: a b c d, U2: b c d a, U3: c d a b
check "split_shift on hand-made ranks" 0 python3 "$shift_py" "$tmp/hand_reviews.json" \
  --ranks "x=$tmp/hand.tsv"
expect_in "split_shift: N@10 validation -> test" "$tmp/out" "| all | 100.0% / 100.0% | 0.5436 -> 0.5000 (-8%) |"
check "split_shift, two checkpoints in a file" 1 python3 "$shift_py" "$tmp/hand_reviews.json" \
  --ranks "x=$tmp/ranks2.tsv"
check "split_shift, a target of other data" 1 python3 "$shift_py" "$tmp/hand_reviews.json" \
  --ranks "y=$tmp/other.tsv"
expect_in "split_shift names the target" "$tmp/err" "the test target of user U2 is b"
exit $fail
