// A trained recommender checkpoint opened against the store it is used with. evaluate, recommend
// and serve all load models through here, so they make the same checks.
#pragma once

#include <memory>
#include <string>

#include "recsys/id_map.h"
#include "sequential_rec/recommender.h"
#include "storage/store.h"

namespace recsys::cli {

// A checkpoint's model and the ID map it was trained on. The map is on the heap because the model
// keeps a pointer to it, and it is declared first so that it outlives the model.
struct CheckpointModel {
  std::unique_ptr<IdMap> map;
  std::unique_ptr<seqrec::Recommender> model;
};

// Loads `checkpoint` (whose config the caller has read into `saved`) for use with `store`. Throws
// kNotFound when the store lacks the ID map the model was trained on, and kInvalidArgument when
// the model knows another number of items than the store has: it was trained on another dataset
// and would score other items under their indices.
CheckpointModel load_checkpoint(const storage::Store& store, const std::string& checkpoint,
                                const seqrec::ConfigMap& saved, const std::string& device,
                                seqrec::CheckpointWeights weights);

}  // namespace recsys::cli
