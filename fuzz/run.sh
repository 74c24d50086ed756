#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-fsanitize=fuzzer,address,undefined), separately from
# the main CMake build, and runs each for a bounded time. Writes fuzz/reports/fuzz_summary.md
# (+ .json) with executions, coverage and findings; crash inputs are kept under $WORK/artifacts.
#
#   fuzz/run.sh [SECONDS_PER_TARGET (default 60)] [TARGET...]
#   env: CXX (clang++-14 or clang++), WORK (default /tmp/recsys-fuzz), JOBS (compile jobs, 2)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER_TARGET="${1:-60}"
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -eq 0 ]] && TARGETS=(fuzz_http_request fuzz_python_literal fuzz_amazon_json)
WORK="${WORK:-/tmp/recsys-fuzz}"
JOBS="${JOBS:-2}"
CXX="${CXX:-$(command -v clang++-14 || command -v clang++)}"
[[ -x "$CXX" ]] || { echo "fuzz/run.sh: clang++ not found" >&2; exit 2; }

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-sanitize=vptr"
CXXFLAGS="-std=c++17 -O1 -g -fno-omit-frame-pointer $SAN -I$ROOT -DBOOST_BEAST_USE_STD_STRING_VIEW -DNDEBUG"
LIBS="-lrocksdb -ltbb -lsimdjson -lz -lboost_program_options -lpthread"

CORE=(recsys/error.cc recsys/id_map.cc recsys/logging.cc recsys/progress.cc recsys/types.cc)
STORAGE=(storage/store.cc storage/internal/codec.cc)
SERVER=(server/api.cc server/metrics.cc server/router.cc server/server_options.cc
        server/store_provider.cc)
DATA=(datasets/amazon_reader.cc datasets/delimited_reader.cc datasets/line_reader.cc
      datasets/prepare.cc datasets/python_literal.cc datasets/raw_corpus.cc
      datasets/text_template.cc)
declare -A SOURCES=(
  [fuzz_http_request]="${CORE[*]} ${STORAGE[*]} ${SERVER[*]}"
  [fuzz_python_literal]="${CORE[*]} ${DATA[*]}"
  [fuzz_amazon_json]="${CORE[*]} ${DATA[*]}"
)
declare -A DICT=([fuzz_http_request]="$ROOT/fuzz/http.dict")
declare -A CORPUS=([fuzz_http_request]=http [fuzz_python_literal]=python_literal
                   [fuzz_amazon_json]=amazon_json)
declare -A MAXLEN=([fuzz_http_request]=4096 [fuzz_python_literal]=4096 [fuzz_amazon_json]=8192)

mkdir -p "$WORK/obj" "$WORK/bin" "$WORK/artifacts" "$WORK/logs"

# Compile every needed source once (instrumented, no fuzzer main), in parallel.
compile() {  # src -> obj
  local src="$1" obj="$WORK/obj/${1//\//_}.o"
  if [[ ! -f "$obj" || "$ROOT/$src" -nt "$obj" ]]; then
    $CXX $CXXFLAGS -fsanitize=fuzzer-no-link -c "$ROOT/$src" -o "$obj"
  fi
}
export -f compile
export CXX CXXFLAGS ROOT WORK
all_sources=$(for t in "${TARGETS[@]}"; do echo ${SOURCES[$t]}; done | tr ' ' '\n' | sort -u)
echo "fuzz/run.sh: compiling $(echo "$all_sources" | wc -l) sources with $CXX" >&2
echo "$all_sources" | xargs -P "$JOBS" -I{} bash -c 'compile {}'

for t in "${TARGETS[@]}"; do
  objs=""
  for s in ${SOURCES[$t]}; do objs+=" $WORK/obj/${s//\//_}.o"; done
  $CXX $CXXFLAGS -fsanitize=fuzzer "$ROOT/fuzz/$t.cc" $objs $LIBS -o "$WORK/bin/$t"
done

json="["
md="| target | seconds | executions | exec/s | coverage (edges) | corpus (seeds -> final) | peak RSS MB | findings |\n|---|---|---|---|---|---|---|---|\n"
status=0
for t in "${TARGETS[@]}"; do
  corpus="$WORK/corpus/$t"
  mkdir -p "$corpus" "$WORK/artifacts/$t"
  seeds=$(ls "$ROOT/fuzz/corpus/${CORPUS[$t]}" | wc -l)
  cp -n "$ROOT/fuzz/corpus/${CORPUS[$t]}"/* "$corpus/" 2>/dev/null || true
  dict_arg=()
  [[ -n "${DICT[$t]:-}" ]] && dict_arg=(-dict="${DICT[$t]}")
  log="$WORK/logs/$t.log"
  echo "fuzz/run.sh: running $t for ${SECONDS_PER_TARGET}s" >&2
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$WORK/bin/$t" "$corpus" "${dict_arg[@]}" -max_total_time="$SECONDS_PER_TARGET" \
    -max_len="${MAXLEN[$t]}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$WORK/artifacts/$t/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{print $2}' | tail -1)
  eps=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | awk '{print $2}' | tail -1)
  rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | awk '{print $2}' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  final=$(ls "$corpus" | wc -l)
  findings=$(ls "$WORK/artifacts/$t" | wc -l)
  [[ $rc -ne 0 || $findings -ne 0 ]] && status=1
  echo "  $t: rc=$rc executions=${execs:-?} exec/s=${eps:-?} cov=${cov:-?} corpus=$seeds->$final findings=$findings" >&2
  md+="| $t | $SECONDS_PER_TARGET | ${execs:-?} | ${eps:-?} | ${cov:-?} | $seeds -> $final | ${rss:-?} | $findings (rc $rc) |\n"
  json+="{\"target\":\"$t\",\"seconds\":$SECONDS_PER_TARGET,\"executions\":${execs:-0},\"exec_per_sec\":${eps:-0},\"coverage\":${cov:-0},\"seeds\":$seeds,\"corpus\":$final,\"peak_rss_mb\":${rss:-0},\"findings\":$findings,\"rc\":$rc},"
done
json="${json%,}]"

mkdir -p "$ROOT/fuzz/reports"
{
  echo "# Fuzzing summary"
  echo
  echo "Run: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) core(s), $($CXX --version | head -1),"
  echo "-fsanitize=fuzzer,address,undefined; \`fuzz/run.sh $SECONDS_PER_TARGET ${TARGETS[*]}\`."
  echo
  printf "$md"
  echo
  echo "The working corpus persists in $WORK/corpus between runs (final = seeds + everything found so far)."
  echo "Findings are the crash/timeout/OOM inputs libFuzzer saved under $WORK/artifacts/<target>/;"
  echo "logs under $WORK/logs/."
} >"$ROOT/fuzz/reports/fuzz_summary.md"
echo "$json" >"$ROOT/fuzz/reports/fuzz_summary.json"
cat "$ROOT/fuzz/reports/fuzz_summary.md"
exit $status
