// Micro-benchmarks of the indexer's hot loops: nearest-centroid assignment (the k-means E-step),
// a full k-means fit, AMI with its expected-MI term, and TF-IDF + randomised SVD. Synthetic,
// seeded data at Beauty-like sizes (12k items, 256 dims, 256 codes).
#include <benchmark/benchmark.h>

#include <random>

#include "indexer/cluster_metrics.h"
#include "indexer/kmeans.h"
#include "indexer/tfidf_features.h"

namespace {

using recsys::indexer::RowMatrix;

RowMatrix random_matrix(Eigen::Index rows, Eigen::Index cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  RowMatrix x(rows, cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = g(rng);
  return x;
}

void BM_NearestCentroids(benchmark::State& state) {
  const RowMatrix x = random_matrix(state.range(0), 256, 1);
  const RowMatrix c = random_matrix(state.range(1), 256, 2);
  std::vector<uint32_t> labels;
  std::vector<float> d;
  for (auto _ : state) {
    recsys::indexer::nearest_centroids(x, c, labels, d);
    benchmark::DoNotOptimize(labels.data());
  }
  state.counters["items/s"] =
      benchmark::Counter(double(x.rows()) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_NearestCentroids)->Args({12101, 256})->Unit(benchmark::kMillisecond);

void BM_KMeansFit(benchmark::State& state) {
  const RowMatrix x = random_matrix(state.range(0), 64, 3);
  recsys::indexer::KMeansOptions o;
  o.k = static_cast<uint32_t>(state.range(1));
  o.max_iterations = 20;
  for (auto _ : state) {
    recsys::indexer::KMeans km(o);
    km.fit(x);
    benchmark::DoNotOptimize(km.inertia());
  }
  state.counters["items/s"] =
      benchmark::Counter(double(x.rows()) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_KMeansFit)->Args({4096, 64})->Unit(benchmark::kMillisecond);

void BM_AdjustedMutualInformation(benchmark::State& state) {
  std::mt19937_64 rng(4);
  std::uniform_int_distribution<uint64_t> codes(0, 255), cats(0, 244);
  std::vector<uint64_t> a(12101), b(12101);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = cats(rng);
    b[i] = codes(rng);
  }
  for (auto _ : state) benchmark::DoNotOptimize(recsys::indexer::adjusted_mutual_information(a, b));
}
BENCHMARK(BM_AdjustedMutualInformation)->Unit(benchmark::kMillisecond);

void BM_TfidfSvd(benchmark::State& state) {
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> word(0, 3999), len(3, 12);
  std::vector<recsys::ItemRecord> items(state.range(0));
  for (auto& it : items) {
    const int n = len(rng);
    for (int i = 0; i < n; ++i) it.title += "w" + std::to_string(word(rng)) + " ";
  }
  recsys::indexer::TfidfOptions o;
  o.dims = 256;
  for (auto _ : state)
    benchmark::DoNotOptimize(recsys::indexer::tfidf_svd_embeddings(items, o).data());
  state.counters["items/s"] =
      benchmark::Counter(double(items.size()) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TfidfSvd)->Arg(12101)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
