#!/usr/bin/env bash
# Sequential-recommender throughput: bench_seqrec (TIGER training samples/s with random batches cut
# into length groups for dynamic padding, constrained beam search users/s at beam 20 / top-10, SASRec
# training, peak RSS)
# next to the PyTorch-eager reference (../shared/bench/pytorch_eager_reference.py: nn.Transformer,
# every history padded to 20 items, naive beam search) at the same sizes, run one after the other
# on the same machine. Quote the ratio.
# usage: benchmarks/seqrec_speed.sh [STORE_DIR MAP_NAME]   (synthetic Beauty-shaped data without)
# env: BUILD_DIR (default build), THREADS (default 2)
# writes benchmarks/reports/seqrec_speed.json and .md (keeping the .md's hand-written ## sections)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
threads=${THREADS:-2}
out=benchmarks/reports
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ $# -ge 2 ]; then export RECSYS_BENCH_STORE=$1 RECSYS_BENCH_MAP=$2; fi
export RECSYS_BENCH_THREADS=$threads
LOAD_AT_START=$(cut -d' ' -f1 /proc/loadavg); export LOAD_AT_START
# The OpenMP wait policy the recsys binary uses for each (recsys/cli/main.cc): passive for
# training, the default (spinning) for decoding.
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} "$build/benchmarks/bench_seqrec" \
  --benchmark_filter='BM_TigerTrain|BM_SasRecTrain' --benchmark_out="$tmp/bench.json" \
  --benchmark_out_format=json | tee "$tmp/bench.txt"
env -u OMP_WAIT_POLICY "$build/benchmarks/bench_seqrec" --benchmark_filter=BM_TigerDecode \
  --benchmark_out="$tmp/bench_decode.json" --benchmark_out_format=json | tee -a "$tmp/bench.txt"
# With OPENBLAS_CORETYPE set (this project's machine sets Haswell, OpenBLAS's AVX2 kernels), the
# fp32 rows again on the kernels OpenBLAS picks by itself; both programs' other rows use the
# caller's setting.
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
  OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} env -u OPENBLAS_CORETYPE \
    "$build/benchmarks/bench_seqrec" --benchmark_filter='BM_TigerTrain/20/8/0/0' \
    --benchmark_out="$tmp/bench_own_train.json" --benchmark_out_format=json | tee -a "$tmp/bench.txt"
  env -u OPENBLAS_CORETYPE "$build/benchmarks/bench_seqrec" \
    --benchmark_filter='BM_TigerDecode/1024/20/0' \
    --benchmark_out="$tmp/bench_own_decode.json" --benchmark_out_format=json | tee -a "$tmp/bench.txt"
fi
# The reference runs on the same OpenBLAS; on the kernels OpenBLAS picks by itself too.
OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 ../shared/bench/pytorch_eager_reference.py \
  --threads "$threads" --batch 256 --steps 10 --hist 20 --codes 4 --beam 20 | tee "$tmp/ref.txt"
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
  OMP_WAIT_POLICY=PASSIVE env -u OPENBLAS_CORETYPE /usr/bin/python3 \
    ../shared/bench/pytorch_eager_reference.py --threads "$threads" --batch 256 --steps 10 \
    --hist 20 --codes 4 --beam 20 | tee "$tmp/ref_own.txt"
fi
/usr/bin/python3 - "$tmp/bench.json" "$tmp/ref.txt" "$out" "$threads" "$@" <<'PY'
import json, re, sys, datetime, os
bench = json.load(open(sys.argv[1])); ref = open(sys.argv[2]).read(); out = sys.argv[3]
bench["benchmarks"] += json.load(open(sys.argv[1].replace("bench.json", "bench_decode.json")))["benchmarks"]
core = bench["context"].get("openblas_core", "") or "not OpenBLAS"
pinned = os.environ.get("OPENBLAS_CORETYPE", "")
own = {}
for part in ("train", "decode"):
    path = sys.argv[1].replace("bench.json", f"bench_own_{part}.json")
    if os.path.exists(path):
        for x in json.load(open(path))["benchmarks"]:
            own[x["name"].split("/iterations")[0]] = x
        own["core"] = json.load(open(path))["context"].get("openblas_core", "")
ref_own_path = sys.argv[2].replace("ref.txt", "ref_own.txt")
ref_own = open(ref_own_path).read() if os.path.exists(ref_own_path) else ""
threads = int(sys.argv[4])
b = {x["name"].split("/iterations")[0]: x for x in bench["benchmarks"]}
def find(prefix):
    for k, v in b.items():
        if k.startswith(prefix): return v
train = find("BM_TigerTrain/20/8/0/0"); train_bf = find("BM_TigerTrain/20/8/1/0")
train_nb = find("BM_TigerTrain/20/1/0/0"); train_items = find("BM_TigerTrain/20/8/1/1")
dec = find("BM_TigerDecode/1024/20/0"); dec_bf = find("BM_TigerDecode/1024/20/1"); sas = find("BM_SasRecTrain")
ref_train = float(re.search(r"train (\d+) samples/s", ref).group(1))
ref_dec = float(re.search(r"decode (\d+) users/s", ref).group(1))
ref_params = re.search(r"params ([\d.]+)M", ref).group(1)
if own:
    ref_own_train = float(re.search(r"train (\d+) samples/s", ref_own).group(1))
    ref_own_dec = float(re.search(r"decode (\d+) users/s", ref_own).group(1))
r = {
  "date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), "cores": os.cpu_count(),
  "threads": threads, "data": train.get("label", ""),
  "tiger_train_samples_per_s": train["samples_per_s"],
  "tiger_train_samples_per_s_one_group": train_nb["samples_per_s"],
  "tiger_train_samples_per_s_bf16": train_bf["samples_per_s"],
  "tiger_train_samples_per_s_bf16_item_inputs": train_items["samples_per_s"],
  "tiger_decode_users_per_s_bf16": dec_bf["users_per_s"],
  "tiger_params_M": train["params_M"],
  "tiger_decode_users_per_s": dec["users_per_s"], "decode_users": dec["users"],
  "full_beauty_test_set_seconds_estimate": 22363 / dec["users_per_s"],
  "sasrec_train_user_sequences_per_s": sas["user_sequences_per_s"],
  "peak_rss_MiB": max(x.get("peak_rss_MiB", 0) for x in bench["benchmarks"]),
  "reference_train_samples_per_s": ref_train, "reference_decode_users_per_s": ref_dec,
  "reference_params_M": float(ref_params), "openblas_core": core,
  "openblas_coretype_env": pinned,
}
if own:
    r["openblas_core_own_choice"] = own["core"]
    r["tiger_train_samples_per_s_own_kernels"] = own["BM_TigerTrain/20/8/0/0"]["samples_per_s"]
    r["tiger_decode_users_per_s_own_kernels"] = own["BM_TigerDecode/1024/20/0"]["users_per_s"]
    r["reference_train_samples_per_s_own_kernels"] = ref_own_train
    r["reference_decode_users_per_s_own_kernels"] = ref_own_dec
r["train_speedup"] = r["tiger_train_samples_per_s"] / ref_train
r["decode_speedup"] = r["tiger_decode_users_per_s"] / ref_dec
r["train_speedup_bf16"] = r["tiger_train_samples_per_s_bf16"] / ref_train
r["decode_speedup_bf16"] = r["tiger_decode_users_per_s_bf16"] / ref_dec
r["load_average_at_start"] = os.environ.get("LOAD_AT_START", "?")
json.dump(r, open(f"{out}/seqrec_speed.json", "w"), indent=2)
kernel_source = f"OPENBLAS_CORETYPE={pinned}" if pinned else "OpenBLAS's own choice"
md = f"""# Sequential recommender throughput ({r['date']}, {r['cores']} cores, {threads} threads)

Command: `benchmarks/seqrec_speed.sh {' '.join(sys.argv[5:])}` (bench_seqrec, then the PyTorch-eager
reference `OMP_WAIT_POLICY=PASSIVE ../shared/bench/pytorch_eager_reference.py --threads {threads} --batch 256 --hist 20 --codes 4 --beam 20`).
OpenMP wait policy: recsys training passive and decoding libgomp's default, as the `recsys` binary
runs them; the reference passive, its faster setting here. Decoding is timed on a model trained for
one step: optimistic, as a trained model's hypotheses finish early less often (see the notes).
Data for recsys: {r['data']}. The reference trains on random tokens padded to 20 items x 4 codes + 1.
OpenBLAS kernels (float32 products): {core} ({kernel_source}), for both programs.

| | recsys (LibTorch C++) | PyTorch eager reference | ratio |
|---|---|---|---|
| TIGER training, samples/s (batch 256) | {r['tiger_train_samples_per_s']:.0f} | {ref_train:.0f} | **{r['train_speedup']:.2f}x** |
| same, bf16 autocast | {r['tiger_train_samples_per_s_bf16']:.0f} | | **{r['train_speedup_bf16']:.2f}x** |
| same, bf16, item encoder inputs (`--tiger.encoder-input items`: 21 encoder positions, not the published 81; not the reference's model) | {r['tiger_train_samples_per_s_bf16_item_inputs']:.0f} | | {r['tiger_train_samples_per_s_bf16_item_inputs']/ref_train:.2f}x |
| same, fp32, batch padded whole (one length group) | {r['tiger_train_samples_per_s_one_group']:.0f} | | {r['tiger_train_samples_per_s_one_group']/ref_train:.2f}x |
| constrained beam search, users/s (beam 20, top-10) | {r['tiger_decode_users_per_s']:.0f} | {ref_dec:.0f} (unconstrained) | **{r['decode_speedup']:.2f}x** |
| same, bf16 autocast | {r['tiger_decode_users_per_s_bf16']:.0f} | | **{r['decode_speedup_bf16']:.2f}x** |
| whole Beauty test set (22,363 users), s (from the fp32 / bf16 rate) | {r['full_beauty_test_set_seconds_estimate']:.0f} / {22363/r['tiger_decode_users_per_s_bf16']:.0f} | {22363/ref_dec:.0f} | |
| parameters | {r['tiger_params_M']:.2f} M (6 heads x 64) | {ref_params} M (4 heads x 32) | |
| SASRec training, user sequences/s (batch 128) | {r['sasrec_train_user_sequences_per_s']:.0f} | | |
| peak RSS of the benchmark process | {r['peak_rss_MiB']:.0f} MiB | | |

{{own_rows}}
Load average at the start: {r['load_average_at_start']} on {r['cores']} cores (a shared machine: absolute rates are
noisy, the ratio of back-to-back runs is what to quote).
Goals: training >= 3x the reference, whole Beauty test set decoded in < 60 s.
Note: our TIGER has the published attention size (6 heads x 64 = 384 inner width), the reference's
nn.Transformer is limited to d_model/heads (4 x 32 = 128), so ours does more work per token.
"""
if own:
    oc = own["core"]
    own_rows = f"""
Both programs again with OPENBLAS_CORETYPE unset (OpenBLAS's own choice: {oc}), float32:

| | recsys | PyTorch eager reference | ratio |
|---|---|---|---|
| TIGER training, samples/s (batch 256) | {r['tiger_train_samples_per_s_own_kernels']:.0f} | {ref_own_train:.0f} | **{r['tiger_train_samples_per_s_own_kernels']/ref_own_train:.2f}x** |
| constrained beam search, users/s (beam 20, top-10) | {r['tiger_decode_users_per_s_own_kernels']:.0f} | {ref_own_dec:.0f} (unconstrained) | **{r['tiger_decode_users_per_s_own_kernels']/ref_own_dec:.2f}x** |
| whole Beauty test set (22,363 users), s (from the rate) | {22363/r['tiger_decode_users_per_s_own_kernels']:.0f} | {22363/ref_own_dec:.0f} | |
| recsys {oc} against {core}: training / decoding | {r['tiger_train_samples_per_s_own_kernels']/r['tiger_train_samples_per_s']:.2f}x / {r['tiger_decode_users_per_s_own_kernels']/r['tiger_decode_users_per_s']:.2f}x | | |
"""
    md = md.replace("{own_rows}", own_rows)
else:
    md = md.replace("{own_rows}\n", "")
# Hand-written sections (## headings) below the generated part survive a re-run.
path = f"{out}/seqrec_speed.md"
notes = ""
if os.path.exists(path):
    old = open(path).read()
    if "\n## " in old: notes = old[old.index("\n## "):]
open(path, "w").write(md + notes)
print(md)
PY
