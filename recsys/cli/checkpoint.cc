#include "recsys/cli/checkpoint.h"

#include "recsys/cli/command.h"
#include "recsys/error.h"

namespace recsys::cli {

CheckpointModel load_checkpoint(const storage::Store& store, const std::string& checkpoint,
                                const seqrec::ConfigMap& saved, const std::string& device,
                                seqrec::CheckpointWeights weights) {
  CheckpointModel m;
  if (const auto it = saved.find("map.name"); it != saved.end()) {
    auto map = store.load_id_map(it->second);
    if (!map)
      throw_unknown_id_map(store, it->second,
                           "the model in '" + checkpoint + "' was trained on it");
    m.map = std::make_unique<IdMap>(std::move(*map));
  }
  m.model = seqrec::load_recommender(checkpoint, m.map.get(), device, weights);
  const uint64_t items = store.stats().num_items;
  RECSYS_CHECK(m.model->num_items() == items, "the model in '", checkpoint, "' knows ",
               m.model->num_items(), " items, the store '", store.path(), "' has ", items,
               ": it was trained on another dataset");
  return m;
}

}  // namespace recsys::cli
