// Collaborative item features for semantic IDs: items bought close together in users' training
// histories get nearby vectors. Positive PMI of windowed co-occurrence counts, factorised by
// randomised SVD (U * sqrt(S), Levy & Goldberg 2014), rows L2-normalised. Only the leave-one-out
// training part of each sequence is read (the last `holdout` items are the validation and test
// targets), so IDs built from these features see nothing the recommender is evaluated on.
// Appended to the text features (concat_features) they give IDs whose prefixes follow
// co-purchase as well as text, the idea of LETTER / EAGER-style collaborative semantic IDs.
#pragma once

#include <cstdint>
#include <string>

#include "indexer/matrix.h"
#include "recsys/types.h"

namespace recsys::indexer {

struct CollaborativeOptions {
  uint32_t dims = 64;    // SVD components
  uint32_t window = 3;   // pairs at most this many positions apart count (>= 1)
  uint32_t holdout = 2;  // last items of each sequence left out (validation + test targets)
  uint32_t power_iterations = 5;
  uint32_t oversamples = 10;
  uint64_t seed = 0;
  void validate() const;
  std::string to_json() const;
};

struct CollaborativeStats {
  uint64_t pairs = 0;                 // co-occurring (ordered) position pairs counted
  uint64_t nonzeros = 0;              // positive-PMI entries of the item x item matrix
  uint64_t items_without_signal = 0;  // items with no positive-PMI entry: zero rows
  double seconds = 0;
};

// One row per item of `dataset` [num_items, dims]; rows of items without signal are zero.
RowMatrix collaborative_embeddings(const Dataset& dataset, const CollaborativeOptions& options,
                                   CollaborativeStats* stats = nullptr);

// [a, weight * b] row by row; a and b must have the same number of rows. With L2-normalised
// blocks, weight^2 is b's share of squared distances relative to a's.
RowMatrix concat_features(const RowMatrix& a, const RowMatrix& b, float weight);

}  // namespace recsys::indexer
