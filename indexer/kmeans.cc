#include "indexer/kmeans.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "recsys/error.h"
#include "recsys/logging.h"

namespace recsys::indexer {
namespace {

constexpr Eigen::Index kBlockRows = 256;

// out[i, j] = ||x_i - c_j||^2 for a block of rows, clamped at 0 against rounding. The blocks are
// fixed (rows [b * kBlockRows, (b + 1) * kBlockRows)), not left to TBB's partitioner: Eigen's
// product rounds a row differently depending on where it falls in its block (measured: shifting
// the rows by 1-43 positions changed the last bits of 375 of 42,000 distances), so blocks that
// followed the scheduling would make the clusters depend on it.
template <typename Fn>
void for_each_distance_block(const RowMatrix& x, const Eigen::VectorXf& x_norms, const RowMatrix& c,
                             Fn&& fn) {
  const Eigen::VectorXf c_norms = c.rowwise().squaredNorm();
  const Eigen::Index n = x.rows();
  const Eigen::Index blocks = (n + kBlockRows - 1) / kBlockRows;
  tbb::parallel_for(Eigen::Index(0), blocks, [&](Eigen::Index b) {
    const Eigen::Index begin = b * kBlockRows;
    const Eigen::Index rows = std::min(kBlockRows, n - begin);
    Eigen::MatrixXf d = -2.0f * (x.middleRows(begin, rows) * c.transpose());
    d.colwise() += x_norms.segment(begin, rows);
    d.rowwise() += c_norms.transpose();
    d = d.cwiseMax(0.0f);
    fn(begin, d);
  });
}

void assign(const RowMatrix& x, const Eigen::VectorXf& x_norms, const RowMatrix& c,
            std::vector<uint32_t>& labels, std::vector<float>& distances) {
  labels.resize(x.rows());
  distances.resize(x.rows());
  for_each_distance_block(x, x_norms, c, [&](Eigen::Index begin, const Eigen::MatrixXf& d) {
    for (Eigen::Index i = 0; i < d.rows(); ++i) {
      Eigen::Index best = 0;
      distances[begin + i] = d.row(i).minCoeff(&best);
      labels[begin + i] = static_cast<uint32_t>(best);
    }
  });
}

// Greedy k-means++ (Arthur & Vassilvitskii; scikit-learn's variant with 2 + ln(k) local trials).
RowMatrix kmeanspp_init(const RowMatrix& x, const Eigen::VectorXf& x_norms, uint32_t k,
                        std::mt19937_64& rng) {
  const Eigen::Index n = x.rows();
  RowMatrix centers(k, x.cols());
  std::uniform_int_distribution<Eigen::Index> pick(0, n - 1);
  centers.row(0) = x.row(pick(rng));
  std::vector<float> closest(n);
  std::vector<uint32_t> unused;
  assign(x, x_norms, centers.topRows(1), unused, closest);
  double potential = std::accumulate(closest.begin(), closest.end(), 0.0);
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<double> cumulative(n);
  RowMatrix candidates(trials, x.cols());
  std::vector<Eigen::Index> candidate_rows(trials);
  Eigen::MatrixXf cand_dist(n, trials);
  for (uint32_t c = 1; c < k; ++c) {
    // (summed in double: std::partial_sum would keep the running total in float, where small
    // distances vanish beside a large sum)
    double running = 0;
    for (Eigen::Index i = 0; i < n; ++i) cumulative[i] = running += closest[i];
    const double total = cumulative.back();
    for (int t = 0; t < trials; ++t) {
      Eigen::Index row;
      if (total <= 0) {
        row = pick(rng);
      } else {
        const double r = unit(rng) * total;
        row = std::upper_bound(cumulative.begin(), cumulative.end(), r) - cumulative.begin();
        row = std::min(row, n - 1);
      }
      candidate_rows[t] = row;
      candidates.row(t) = x.row(row);
    }
    for_each_distance_block(x, x_norms, candidates,
                            [&](Eigen::Index begin, const Eigen::MatrixXf& d) {
                              cand_dist.middleRows(begin, d.rows()) = d;
                            });
    int best = 0;
    double best_potential = std::numeric_limits<double>::infinity();
    for (int t = 0; t < trials; ++t) {
      double p = 0;
      for (Eigen::Index i = 0; i < n; ++i) p += std::min(closest[i], cand_dist(i, t));
      if (p < best_potential) {
        best_potential = p;
        best = t;
      }
    }
    centers.row(c) = candidates.row(best);
    for (Eigen::Index i = 0; i < n; ++i) closest[i] = std::min(closest[i], cand_dist(i, best));
    potential = best_potential;
  }
  (void)potential;
  return centers;
}

RowMatrix random_init(const RowMatrix& x, uint32_t k, std::mt19937_64& rng) {
  std::vector<Eigen::Index> rows(x.rows());
  std::iota(rows.begin(), rows.end(), 0);
  RowMatrix centers(k, x.cols());
  for (uint32_t c = 0; c < k; ++c) {  // partial Fisher-Yates: k distinct rows
    std::uniform_int_distribution<size_t> pick(c, rows.size() - 1);
    std::swap(rows[c], rows[pick(rng)]);
    centers.row(c) = x.row(rows[c]);
  }
  return centers;
}

}  // namespace

void KMeansOptions::validate() const {
  RECSYS_CHECK(k > 0, "k-means: k must be > 0");
  RECSYS_CHECK(max_iterations > 0, "k-means: max_iterations must be > 0");
  RECSYS_CHECK(restarts > 0, "k-means: restarts must be > 0");
  RECSYS_CHECK(tolerance >= 0, "k-means: tolerance must be >= 0");
}

std::string KMeansOptions::to_json() const {
  nlohmann::json j{{"k", k},
                   {"max_iterations", max_iterations},
                   {"restarts", restarts},
                   {"tolerance", tolerance},
                   {"kmeanspp", kmeanspp},
                   {"seed", seed}};
  return j.dump();
}

void nearest_centroids(const RowMatrix& x, const RowMatrix& centroids,
                       std::vector<uint32_t>& labels, std::vector<float>& distances) {
  RECSYS_CHECK(x.cols() == centroids.cols(), "nearest_centroids: dimension mismatch (", x.cols(),
               " vs ", centroids.cols(), ")");
  RECSYS_CHECK(centroids.rows() > 0, "nearest_centroids: no centroids");
  const Eigen::VectorXf x_norms = x.rowwise().squaredNorm();
  assign(x, x_norms, centroids, labels, distances);
}

KMeans::KMeans(KMeansOptions options) : options_(options) { options_.validate(); }

std::vector<uint32_t> KMeans::predict(const RowMatrix& x, std::vector<float>* distances) const {
  RECSYS_CHECK(centroids_.rows() > 0, "k-means: predict() before fit()");
  std::vector<uint32_t> labels;
  std::vector<float> d;
  nearest_centroids(x, centroids_, labels, d);
  if (distances) *distances = std::move(d);
  return labels;
}

void KMeans::fit(const RowMatrix& x) {
  const Eigen::Index n = x.rows();
  const uint32_t k = options_.k;
  RECSYS_CHECK(n >= static_cast<Eigen::Index>(k), "k-means: ", n, " points for k = ", k,
               " clusters");
  RECSYS_CHECK(x.cols() > 0, "k-means: zero-dimensional data");
  RECSYS_CHECK(x.allFinite(), "k-means: input has NaN or infinite values");
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const Eigen::VectorXf x_norms = x.rowwise().squaredNorm();
  RECSYS_CHECK(x_norms.allFinite(),
               "k-means: input values too large (a squared norm overflows float)");
  // Absolute tolerance: tolerance * mean variance per dimension (as scikit-learn).
  const Eigen::RowVectorXd mean = x.cast<double>().colwise().mean();
  const double mean_variance =
      ((x.cast<double>().rowwise() - mean).array().square().colwise().sum() / double(n)).mean();
  const double tol = options_.tolerance * mean_variance;

  stats_.clear();
  inertia_ = std::numeric_limits<double>::infinity();
  std::vector<uint32_t> labels, prev;
  std::vector<float> dist;
  std::vector<uint64_t> counts(k);
  Eigen::MatrixXd sums(k, x.cols());
  for (uint32_t r = 0; r < options_.restarts; ++r) {
    std::mt19937_64 rng(options_.seed * 0x9E3779B97F4A7C15ULL + r);
    RowMatrix c = options_.kmeanspp ? kmeanspp_init(x, x_norms, k, rng) : random_init(x, k, rng);
    prev.assign(n, std::numeric_limits<uint32_t>::max());
    for (uint32_t it = 1; it <= options_.max_iterations; ++it) {
      assign(x, x_norms, c, labels, dist);
      KMeansIterationStats st;
      st.restart = r;
      st.iteration = it;
      st.inertia = std::accumulate(dist.begin(), dist.end(), 0.0);
      for (Eigen::Index i = 0; i < n; ++i) st.changed += labels[i] != prev[i];
      // Empty clusters take the points farthest from their centroid (scikit-learn's repair).
      std::fill(counts.begin(), counts.end(), 0);
      for (uint32_t l : labels) ++counts[l];
      std::vector<uint32_t> empty;
      for (uint32_t j = 0; j < k; ++j)
        if (counts[j] == 0) empty.push_back(j);
      if (!empty.empty()) {
        std::vector<Eigen::Index> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + std::min<size_t>(n, 2 * empty.size()),
                          order.end(), [&](Eigen::Index a, Eigen::Index b) {
                            return dist[a] != dist[b] ? dist[a] > dist[b] : a < b;
                          });
        size_t next = 0;
        for (uint32_t j : empty) {
          // Take a point whose cluster keeps at least one other member.
          while (next < static_cast<size_t>(n) && counts[labels[order[next]]] <= 1) ++next;
          if (next >= static_cast<size_t>(n)) break;
          const Eigen::Index p = order[next++];
          --counts[labels[p]];
          labels[p] = j;
          counts[j] = 1;
          dist[p] = 0;
          ++st.empty_repaired;
        }
      }
      sums.setZero();
      for (Eigen::Index i = 0; i < n; ++i) sums.row(labels[i]) += x.row(i).cast<double>();
      RowMatrix updated = c;
      for (uint32_t j = 0; j < k; ++j)
        if (counts[j] > 0) updated.row(j) = (sums.row(j) / double(counts[j])).cast<float>();
      st.centroid_shift = (updated - c).cast<double>().squaredNorm();
      c = std::move(updated);
      st.seconds = elapsed();
      stats_.push_back(st);
      RECSYS_LOG(Debug) << "k-means restart " << r << " iter " << it << " inertia " << st.inertia
                        << " changed " << st.changed << " shift " << st.centroid_shift;
      std::swap(prev, labels);
      if (st.changed == 0 || st.centroid_shift <= tol) break;
    }
    // Final E-step so labels match the returned centroids.
    assign(x, x_norms, c, labels, dist);
    const double inertia = std::accumulate(dist.begin(), dist.end(), 0.0);
    if (r == 0 || inertia < inertia_) {
      inertia_ = inertia;
      centroids_ = std::move(c);
      labels_ = labels;
      best_restart_ = r;
    }
  }
}

}  // namespace recsys::indexer
