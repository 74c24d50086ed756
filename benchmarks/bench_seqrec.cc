// Throughput of the sequential recommenders: TIGER training samples/s (random batches of 256 cut
// into 8 length groups, or padded whole), constrained beam-search decoding users/s (beam 20,
// top-10), SASRec training samples/s, and the process's peak resident memory.
//
// Data: the store named by RECSYS_BENCH_STORE with ID map RECSYS_BENCH_MAP when both are set
// (e.g. Beauty); otherwise a synthetic catalogue of Beauty's shape (22,363 users, 12,101 items,
// 198,502 interactions, 5-core style lengths, random 256x256x256 IDs + suffix).
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <set>

#include "recsys/allocator.h"
#include "recsys/logging.h"
#include "sequential_rec/evaluator.h"
#include "sequential_rec/internal/parallel.h"
#include "sequential_rec/recommender.h"
#include "sequential_rec/trainer.h"
#include "storage/store.h"

namespace {

using namespace recsys;

struct BenchData {
  Dataset dataset;
  IdMap map;
  std::string source;
};

BenchData synthetic_beauty() {
  BenchData d;
  d.source = "synthetic (Beauty shape)";
  const size_t users = 22363, items = 12101;
  std::mt19937_64 rng(17);
  d.dataset.name = "synthetic-beauty";
  d.dataset.items.resize(items);
  // Lengths: 5 + geometric with mean 3.88 (Beauty: 198,502 / 22,363 = 8.88 per user).
  std::geometric_distribution<int> extra(1.0 / 4.88);
  std::uniform_int_distribution<uint32_t> item(0, items - 1);
  for (size_t u = 0; u < users; ++u) {
    UserRecord r;
    const int n = 5 + std::min(extra(rng), 200);
    for (int j = 0; j < n; ++j) r.items.push_back(item(rng));
    r.timestamps.assign(r.items.size(), 0);
    d.dataset.users.push_back(std::move(r));
  }
  d.dataset.finalize_stats();
  d.map.name = "random";
  d.map.vocab = {256, 256, 256, 8};
  std::set<SemanticId> used;
  for (size_t i = 0; i < items; ++i) {
    SemanticId id = {Token(rng() % 256), Token(rng() % 256), Token(rng() % 256), 0};
    while (!used.insert(id).second) ++id[3];
    d.map.ids.push_back(id);
  }
  return d;
}

const BenchData& data() {
  static std::unique_ptr<BenchData> d;
  if (!d) {
    set_log_level(LogLevel::kWarning);
    keep_freed_tensor_memory();  // as the recsys binary does
    const char* store = std::getenv("RECSYS_BENCH_STORE");
    const char* map = std::getenv("RECSYS_BENCH_MAP");
    if (store && map) {
      d = std::make_unique<BenchData>();
      auto s = storage::Store::open(store);
      d->dataset = s->load_dataset();
      auto m = s->load_id_map(map);
      if (!m) throw std::runtime_error(std::string("no ID map ") + map);
      d->map = std::move(*m);
      d->source = std::string(store) + " map " + map;
    } else {
      d = std::make_unique<BenchData>(synthetic_beauty());
    }
  }
  return *d;
}

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

int threads() {
  const char* t = std::getenv("RECSYS_BENCH_THREADS");
  return t ? std::atoi(t) : 2;
}

void BM_TigerTrain(benchmark::State& state) {
  const auto& d = data();
  seqrec::ModelConfig model;  // published defaults, or with one encoder position per item
  if (state.range(3)) model.tiger.encoder_input = "items";
  seqrec::TrainConfig train;
  train.threads = threads();
  train.batch_size = 256;
  train.max_steps = state.range(0);
  train.eval_every = 1000;
  train.log_interval_seconds = 1e9;
  train.length_groups = state.range(1);
  train.precision = state.range(2) ? "bf16" : "fp32";
  for (auto _ : state) {
    auto r = seqrec::train_recommender(d.dataset, &d.map, model, train);
    state.counters["samples_per_s"] = r.samples_per_second;
    state.counters["params_M"] = r.num_parameters / 1e6;
  }
  state.counters["peak_rss_MiB"] = peak_rss_mib();
  state.SetLabel(d.source + ", " + std::to_string(state.range(1)) + " length groups" + ", " +
                 train.precision + ", " + model.tiger.encoder_input + " encoder inputs");
}
// steps, length groups, bf16, item encoder inputs
BENCHMARK(BM_TigerTrain)
    ->Args({20, 8, 0, 0})
    ->Args({20, 8, 1, 0})
    ->Args({20, 1, 0, 0})
    ->Args({20, 8, 1, 1})
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

void BM_TigerDecode(benchmark::State& state) {
  const auto& d = data();
  seqrec::ModelConfig model;
  seqrec::TrainConfig train;
  train.threads = threads();
  train.max_steps = 1;  // untrained: decodes faster than a trained model (more early finishes)
  train.eval_every = 1000;
  train.log_interval_seconds = 1e9;
  auto r = seqrec::train_recommender(d.dataset, &d.map, model, train);
  seqrec::EvalConfig eval;
  eval.beam_size = state.range(1);
  eval.ks = {10};
  eval.max_users = state.range(0);
  eval.precision = state.range(2) ? "bf16" : "fp32";
  for (auto _ : state) {
    auto res = seqrec::evaluate(*r.model, d.dataset, seqrec::Split::kTest, eval);
    state.counters["users_per_s"] = res.users_per_second;
    state.counters["users"] = res.users;
    state.counters["full_test_set_s_est"] =
        d.dataset.users.size() / std::max(res.users_per_second, 1e-9);
  }
  state.counters["peak_rss_MiB"] = peak_rss_mib();
  state.SetLabel(d.source + ", beam " + std::to_string(state.range(1)) + ", top-10, " +
                 eval.precision);
}
BENCHMARK(BM_TigerDecode)
    ->Args({1024, 20, 0})
    ->Args({1024, 20, 1})
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

void BM_SasRecTrain(benchmark::State& state) {
  const auto& d = data();
  seqrec::ModelConfig model;
  model.model = "sasrec";
  seqrec::TrainConfig train;
  train.threads = threads();
  train.batch_size = 128;
  train.schedule = "constant";
  train.warmup_steps = 0;
  train.max_steps = state.range(0);
  train.eval_every = 1000;
  train.log_interval_seconds = 1e9;
  for (auto _ : state) {
    auto r = seqrec::train_recommender(d.dataset, nullptr, model, train);
    state.counters["user_sequences_per_s"] = r.samples_per_second;
  }
  state.counters["peak_rss_MiB"] = peak_rss_mib();
  state.SetLabel(d.source);
}
BENCHMARK(BM_SasRecTrain)->Args({50})->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("openblas_core", recsys::seqrec::internal::openblas_core_name());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
