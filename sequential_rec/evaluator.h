// Leave-one-out evaluation with full ranking over the catalogue: for every user, the history is
// all items before the target (validation target = second-to-last item, test target = last),
// the recommender ranks the whole catalogue (TIGER: constrained beam search), and Recall@K /
// NDCG@K are averaged over users. Reports as JSON and Markdown.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "recsys/types.h"
#include "sequential_rec/config.h"
#include "sequential_rec/recommender.h"

namespace recsys::seqrec {

enum class Split { kValidation, kTest };
const char* split_name(Split split);

// Queries and targets of a split. Users without a target or without history are skipped.
// max_users > 0 keeps an evenly strided subset of that many users (deterministic).
void split_queries(const Dataset& dataset, Split split, int64_t max_users,
                   std::vector<Query>* queries, std::vector<ItemIndex>* targets);

// Where one user's target landed: rank is 0-based within the top max(ks), -1 when not there.
struct UserRank {
  UserIndex user = 0;
  ItemIndex target = 0;
  int32_t rank = -1;
};

struct EvalResult {
  std::string split;
  uint64_t users = 0;
  std::map<std::string, double> metrics;  // "recall@10" -> mean
  double seconds = 0;
  double users_per_second = 0;
  bool exclude_history = false;
  int64_t beam_size = 0;  // TIGER: the width searched, max(--beam, largest K) (and wider for
                          // users whose excluded history could take places in it); else 0
  std::string precision;  // of the decoding: fp32 | bf16
  std::string checkpoint;       // the evaluated checkpoint when a report holds several; else empty
  std::vector<UserRank> ranks;  // per user, in query order (for slicing and significance tests)
};

EvalResult evaluate(Recommender& model, const Dataset& dataset, Split split,
                    const EvalConfig& config);

// The keys of `metrics` ("recall@10", "ndcg@5", ...) by cut-off, recall before NDCG at each; other
// names after them, in name order.
std::vector<std::string> metric_order(const std::map<std::string, double>& metrics);

// One report: what was evaluated, how, and the results.
struct EvalReport {
  std::string title;
  std::string dataset;
  std::string model;
  std::string id_map;                        // empty for SASRec
  ConfigMap config;                          // effective model/train/eval config
  std::map<std::string, std::string> notes;  // free-form facts (timing, budget, host)
  std::vector<EvalResult> results;
  std::string to_json() const;
  std::string to_markdown() const;
  // Writes <prefix>.json and <prefix>.md.
  void write(const std::string& prefix) const;
};

}  // namespace recsys::seqrec
