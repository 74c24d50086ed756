// The torch-free face of a trained sequential recommender (TIGER or SASRec): recommend the next
// items for histories, save and load checkpoints. Models are created through a small registry
// ("tiger", "sasrec"); an unknown name throws and lists the valid ones.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "recsys/id_map.h"
#include "recsys/types.h"
#include "sequential_rec/config.h"

namespace recsys::seqrec {

inline constexpr int kCheckpointFormatVersion = 1;

struct ScoredItem {
  ItemIndex item = 0;
  // The model's log-probability of the item: TIGER's given the catalogue (beam_search.h), SASRec's
  // under its softmax over all items. History items that exclude_history drops keep their share.
  float score = 0.f;
};

struct Query {
  UserIndex user = 0;              // selects the hashed user token (TIGER)
  std::vector<ItemIndex> history;  // oldest first
};

struct RecommendOptions {
  size_t top_k = 10;
  int64_t beam_size = 20;          // TIGER only; widened to top_k (plus history, see below)
  bool exclude_history = false;    // drop history items from the results
  std::string precision = "fp32";  // fp32 | bf16 (matrix products in bfloat16)
};

// A model's learned vector per item: row i (of num_items) is item i, row-major.
struct ItemEmbeddings {
  int64_t dims = 0;
  std::vector<float> values;  // num_items * dims
};

class Recommender {
 public:
  virtual ~Recommender() = default;
  virtual std::string name() const = 0;
  virtual const ModelConfig& config() const = 0;
  virtual size_t num_items() const = 0;
  // Top items per query, best first: top_k of them, or every item there is to give. TIGER's beam
  // is widened to top_k, and with exclude_history also by the user's distinct history items, so
  // that the excluded ones cannot leave the list short.
  virtual std::vector<std::vector<ScoredItem>> recommend(const std::vector<Query>& queries,
                                                         const RecommendOptions& options) = 0;
  // Number of trainable parameters.
  virtual int64_t num_parameters() const = 0;
  // The item embedding table (SASRec: the one it reads histories with and scores items by).
  // Throws kUnsupported for models without one vector per item (TIGER scores IDs token by token).
  virtual ItemEmbeddings item_embeddings() const;
};

// Which weights of a checkpoint directory to load: the best on validation (or, when the run never
// validated, the last), or those of the last step saved.
enum class CheckpointWeights { kBest, kLast };
// "best" | "last"; throws kInvalidArgument otherwise.
CheckpointWeights parse_checkpoint_weights(const std::string& name);

// Loads the weights of a checkpoint directory written by train_recommender(). `map` must be the
// ID map the model was trained with (checked) for TIGER.
std::unique_ptr<Recommender> load_recommender(const std::string& checkpoint_dir, const IdMap* map,
                                              const std::string& device = "cpu",
                                              CheckpointWeights weights = CheckpointWeights::kBest);

// Sets the LibTorch intra-op thread count used by recommend() and training.
void set_num_threads(int threads);

// Reads the checkpoint's config.ini (model, map name, ...).
ConfigMap read_checkpoint_config(const std::string& checkpoint_dir);

// The training state saved with a checkpoint's last step (state.ini: step, epoch, elapsed_seconds,
// stop_reason, best_epoch, ...); empty when training never saved a step there.
ConfigMap read_checkpoint_state(const std::string& checkpoint_dir);

// The precision a checkpoint was trained (and validated) in, from its config: "fp32" or "bf16";
// "fp32" when the config does not say. evaluate / recommend / serve decode in it by default.
std::string trained_precision(const ConfigMap& checkpoint_config);

}  // namespace recsys::seqrec
