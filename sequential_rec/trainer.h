// Training loop shared by TIGER and SASRec: samples from the leave-one-out training part, AdamW
// with warm-up + inverse-square-root (or constant) learning rate and an optional linear cooldown
// before the step budget, gradient clipping, full-size random batches cut into length-sorted
// groups (dynamic padding), early stopping on validation NDCG@10, checkpoints that resume exactly
// (weights, optimizer, step, position in the epoch, RNG), one progress line per interval.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "recsys/id_map.h"
#include "recsys/types.h"
#include "sequential_rec/config.h"
#include "sequential_rec/evaluator.h"
#include "sequential_rec/recommender.h"

namespace recsys::seqrec {

struct TrainResult {
  std::unique_ptr<Recommender> model;  // best weights when validation ran, else the last
  int64_t steps = 0;                   // total optimizer steps (all sessions)
  int64_t best_epoch = 0;
  double best_valid_ndcg10 = -1;
  double elapsed_seconds = 0;     // all sessions
  double samples_per_second = 0;  // this session, training steps only
  double last_loss = 0;           // loss of the final step
  int64_t num_parameters = 0;
  std::string stop_reason;  // max_epochs | max_steps | time_budget | early_stopping | interrupted
  bool resumed = false;
};

// Trains `model_config` on `dataset` (`map` is required for TIGER and must outlive the result's
// model). With config.out_dir set, writes checkpoints there and resumes from one if present.
// `stop`, when given, is read after every step: once it is true (set by a SIGINT handler, say),
// training saves a checkpoint where it stands, mid-epoch, without validating, and returns with
// stop_reason "interrupted"; training again with the same out_dir resumes exactly there.
TrainResult train_recommender(const Dataset& dataset, const IdMap* map,
                              const ModelConfig& model_config, const TrainConfig& config,
                              const std::atomic<bool>* stop = nullptr);

}  // namespace recsys::seqrec
