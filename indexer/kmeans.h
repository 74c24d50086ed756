// k-means clustering (Lloyd iterations) with greedy k-means++ initialisation, several restarts,
// empty-cluster repair and per-iteration statistics, after faiss `Clustering`. Eigen for the
// distance products, oneTBB for the assignment step. Deterministic for a given seed and input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "indexer/matrix.h"

namespace recsys::indexer {

struct KMeansOptions {
  uint32_t k = 256;               // number of clusters
  uint32_t max_iterations = 100;  // Lloyd iterations per restart
  uint32_t restarts = 1;          // independent runs; the lowest inertia wins (sklearn n_init)
  // Stop when the total squared centroid shift is <= tolerance * mean per-dimension variance of
  // the data (scikit-learn's rule), or when no assignment changed.
  double tolerance = 1e-4;
  bool kmeanspp = true;  // greedy k-means++ init; false = k distinct random points
  uint64_t seed = 0;
  // Throws kInvalidArgument on k == 0, max_iterations == 0 or restarts == 0.
  void validate() const;
  std::string to_json() const;
};

struct KMeansIterationStats {
  uint32_t restart = 0;
  uint32_t iteration = 0;       // 0 = after initialisation
  double inertia = 0;           // sum of squared distances to the assigned centroid
  double centroid_shift = 0;    // total squared centroid movement of this update
  uint64_t changed = 0;         // points whose assignment changed
  uint32_t empty_repaired = 0;  // empty clusters re-seeded this iteration
  double seconds = 0;           // wall time since the start of fit()
};

class KMeans {
 public:
  explicit KMeans(KMeansOptions options);

  // Clusters the rows of x [N, D]. N must be >= k. Afterwards centroids() is [k, D] and
  // labels()[i] is the cluster of row i.
  void fit(const RowMatrix& x);

  // Nearest centroid of every row of x [M, D]; squared distances in *distances when given.
  std::vector<uint32_t> predict(const RowMatrix& x, std::vector<float>* distances = nullptr) const;

  const KMeansOptions& options() const { return options_; }
  const RowMatrix& centroids() const { return centroids_; }
  const std::vector<uint32_t>& labels() const { return labels_; }
  double inertia() const { return inertia_; }
  uint32_t best_restart() const { return best_restart_; }
  // Every iteration of every restart, in order.
  const std::vector<KMeansIterationStats>& stats() const { return stats_; }

 private:
  KMeansOptions options_;
  RowMatrix centroids_;
  std::vector<uint32_t> labels_;
  double inertia_ = 0;
  uint32_t best_restart_ = 0;
  std::vector<KMeansIterationStats> stats_;
};

// Nearest row of `centroids` [K, D] for every row of x [N, D] (squared L2), parallel over rows.
// labels and distances are resized to N.
void nearest_centroids(const RowMatrix& x, const RowMatrix& centroids,
                       std::vector<uint32_t>& labels, std::vector<float>& distances);

}  // namespace recsys::indexer
