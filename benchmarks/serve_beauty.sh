#!/usr/bin/env bash
# Load test of `recsys serve` with wrk on loopback over the Amazon 2014 Beauty store: requests/s
# and p50/p90/p99 latency for single item lookups, full-ID lookups, prefix scans, batch lookups
# and (with a model) recommendations. Writes benchmarks/reports/serve_beauty.{json,md}.
#
# usage: benchmarks/serve_beauty.sh
#   env: BUILD_DIR (default build)   WORK (default /tmp/recsys-serve-bench)   PORT (18080)
#        DATA_DIR  where amazon2014-beauty lies (default ../shared/datasets)
#        STORE  existing Beauty store with an ID map (else prepared + indexed into $WORK/store)
#        MAP    ID map name (default rkmeans; learnt with `recsys index --method rkmeans` if absent)
#        MODEL  TIGER checkpoint dir (else a latency-only model is trained for TRAIN_STEPS steps
#               into $WORK/tiger; set MODEL=none to skip recommend)
#        DURATION seconds per wrk run (10)   THREADS server threads (2)
#        CONNS  connections for lookups (32); ITEM_CONNS  for single lookups ("8 $CONNS")  REC_CONNS connections for recommend (1: latency without queueing)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${BUILD_DIR:-build}/bin/recsys")
work=${WORK:-/tmp/recsys-serve-bench}
duration=${DURATION:-10}
threads=${THREADS:-2}
conns=${CONNS:-32}
rec_conns=${REC_CONNS:-1}
port=${PORT:-18080}
mkdir -p "$work" benchmarks/reports

store=${STORE:-$work/store}
if [ ! -f "$store/CURRENT" ]; then
  "$bin" data prepare --input amazon2014-beauty --data-dir "data:${DATA_DIR:-../shared/datasets}" \
    --store "$store"
fi
map=${MAP:-rkmeans}
if ! "$bin" lookup --store "$store" --index 0 2>/dev/null | grep -q "id\[$map\]"; then
  "$bin" index --store "$store" --method rkmeans --name "$map" --threads 2
fi

model=${MODEL:-$work/tiger}
if [ "$model" != none ] && [ ! -f "$model/config.ini" ]; then
  # Recommend latency depends on the architecture (published TIGER sizes, beam width), not on
  # how well the weights are trained: a short run is enough for the load test.
  "$bin" train --store "$store" --model tiger --map "$map" --out "$model" --threads 2 \
    --max-steps "${TRAIN_STEPS:-20}" --no-test --eval-every 1000 2>&1 | tail -3
fi

# A server left over from an earlier run on the port would be measured instead of this one.
if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
  echo "serve_beauty.sh: something already answers on port $port; stop it or set PORT" >&2
  exit 1
fi
log="$work/server.log"
model_args=()
[ "$model" != none ] && model_args=(--model "$model")
"$bin" serve --store "$store" "${model_args[@]}" --port "$port" --threads "$threads" \
  --refresh-interval-ms 0 >"$log" 2>&1 &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  kill -0 $server_pid 2>/dev/null || { cat "$log"; exit 1; }
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done

# Every item's external id and semantic ID, paged through the prefix endpoint.
ids="$work/ids.tsv"
/usr/bin/python3 - "$port" "$map" "$ids" <<'PY'
import json, sys, urllib.request
port, m, out = sys.argv[1:]
rows, cursor = [], ""
while True:
    url = f"http://127.0.0.1:{port}/v1/maps/{m}/prefix/?limit=1000" + (f"&cursor={cursor}" if cursor else "")
    page = json.load(urllib.request.urlopen(url))
    rows += [(it["external_id"], it["semantic_id"]) for it in page["items"]]
    if page["next_cursor"] is None: break
    cursor = page["next_cursor"]
open(out, "w").write("".join(f"{e}\t{s}\n" for e, s in rows))
print(f"{len(rows)} items in map {m}", file=sys.stderr)
PY

results="$work/results.jsonl"
: >"$results"
run() {  # name mode connections [env...]
  local name=$1 mode=$2 c=$3
  shift 3
  echo "wrk: $name ($c connections, ${duration}s)" >&2
  local out cpu0 cpu1 load
  # Server CPU time (user+sys clock ticks) around the run: CPU per request does not depend on
  # how much of the machine other jobs take, unlike requests/s.
  cpu0=$(awk '{print $14+$15}' /proc/$server_pid/stat)
  out=$(env MODE="$mode" IDS_FILE="$ids" MAP="$map" "$@" \
    wrk -t1 -c"$c" -d"${duration}s" --timeout 5s -s benchmarks/serve_wrk.lua \
    "http://127.0.0.1:$port" 2>&1)
  cpu1=$(awk '{print $14+$15}' /proc/$server_pid/stat)
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "$out" | grep -v WRKJSON >&2
  echo "$out" | grep WRKJSON | sed "s#^WRKJSON {#{\"name\":\"$name\",\"connections\":$c,\"server_cpu_s\":$(( cpu1 - cpu0 ))e-2,\"loadavg\":$load,#" >>"$results"
}
for c in ${ITEM_CONNS:-8 $conns}; do run "GET /v1/items/{id}" item "$c"; done
run "GET /v1/maps/{map}/ids/{sid}" id "$conns"
run "GET /v1/maps/{map}/prefix/{t1}?limit=20" prefix "$conns"
run "POST /v1/items:batchGet (50 ids)" batch "$conns" BATCH=50
if [ "$model" != none ]; then
  run "POST /v1/recommend (k 10, beam 20)" recommend "$rec_conns" K=10 BEAM=20 HISTORY=5
fi
curl -s "http://127.0.0.1:$port/metrics" >"$work/metrics.txt"

/usr/bin/python3 - "$results" "$work" "$threads" "$duration" "$map" "$model" "$store" <<'PY'
import json, sys, os, datetime, subprocess
results, work, threads, duration, m, model, store = sys.argv[1:]
rows = [json.loads(l) for l in open(results)]
cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
cpu_model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), "?")
out = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), "cpus": os.cpu_count(),
       "cpu_model": cpu_model, "server_threads": int(threads), "duration_s": int(duration), "map": m,
       "model": model, "store": store, "runs": rows,
       "goals": {"single_lookup_rps": 20000, "single_lookup_p99_ms": 5, "recommend_p99_ms": 50}}
json.dump(out, open("benchmarks/reports/serve_beauty.json", "w"), indent=2)
md = [f"# recsys serve: load test on Amazon 2014 Beauty ({out['date']})", "",
      f"wrk 4.1 (1 thread, closed loop, keep-alive) against `recsys serve --threads {threads}` on loopback, "
      f"{duration} s per row, on this {os.cpu_count()}-core machine ({cpu_model}); wrk, the server "
      f"(and whatever else runs on the machine) share those cores. ID map `{m}`; random items "
      f"(fixed seeds) from the whole catalogue.", "",
      "| request | connections | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors (non-2xx, timeouts) | server CPU per request | load avg (1 min) |",
      "|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    r["server_cpu_us_per_request"] = r["server_cpu_s"] * 1e6 / max(1, r["requests"])
    cpu = r["server_cpu_us_per_request"]
    md.append(f"| {r['name']} | {r['connections']} | {r['rps']:,.0f} | {r['p50_us']/1000:.2f} | "
              f"{r['p90_us']/1000:.2f} | {r['p99_us']/1000:.2f} | {r['max_us']/1000:.1f} | "
              f"{r['errors_status']}, {r['errors_timeout']} | "
              f"{cpu/1000:.1f} ms | {r['loadavg']} |" if cpu >= 1000 else
              f"| {r['name']} | {r['connections']} | {r['rps']:,.0f} | {r['p50_us']/1000:.2f} | "
              f"{r['p90_us']/1000:.2f} | {r['p99_us']/1000:.2f} | {r['max_us']/1000:.1f} | "
              f"{r['errors_status']}, {r['errors_timeout']} | {cpu:.0f} us | {r['loadavg']} |")
json.dump(out, open("benchmarks/reports/serve_beauty.json", "w"), indent=2)
md += ["", "Server CPU per request = the server process's user+sys CPU time during the run / requests "
       "(all its threads, LibTorch's included); it does not depend on what else runs on the machine, "
       "unlike requests/s and latency. A load average above 2 means other jobs were competing for the 2 cores.",
       "", "Goals (2 cores): single lookups >= 20,000/s with p99 < 5 ms; recommend (beam 20, top 10) p99 < 50 ms."]
single = max((r for r in rows if r["name"].startswith("GET /v1/items")), key=lambda r: r["rps"], default=None)
rec = next((r for r in rows if "recommend" in r["name"]), None)
if single:
    # Fast errors are not throughput: any non-2xx answer or timeout fails the goal.
    ok = (single["rps"] >= 20000 and single["p99_us"] < 5000
          and single["errors_status"] + single["errors_timeout"] == 0)
    md.append(f"- single lookups: {single['rps']:,.0f}/s, p99 {single['p99_us']/1000:.2f} ms: {'met' if ok else 'NOT met'}")
if rec:
    ok = rec["p99_us"] < 50000 and rec["errors_status"] + rec["errors_timeout"] == 0
    md.append(f"- recommend: p99 {rec['p99_us']/1000:.1f} ms ({rec['rps']:.1f}/s): {'met' if ok else 'NOT met'}")
elif model == "none":
    md.append("- recommend: not measured (no model)")
open("benchmarks/reports/serve_beauty.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
