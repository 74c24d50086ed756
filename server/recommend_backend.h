// What the server needs from a recommender: top-k items for a history (and optional user). The
// CLI adapts recsys::seqrec::Recommender to it (recsys/cli/serve_command.cc); tests use fakes.
// Keeping this interface here keeps LibTorch out of the server library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "recsys/types.h"

namespace recsys::server {

struct RecommendRequest {
  std::vector<ItemIndex> history;  // oldest first, never empty
  std::optional<UserIndex> user;   // known user (hashed user token), if given
  size_t k = 10;
  int64_t beam = 20;
  bool exclude_history = false;
};

struct Recommendation {
  ItemIndex item = 0;
  float score = 0.f;
};

class RecommendBackend {
 public:
  virtual ~RecommendBackend() = default;
  virtual std::string name() const = 0;
  // Best first, at most request.k. Called from the server's model threads; an implementation
  // that is not thread-safe serialises itself. May throw recsys::Error.
  virtual std::vector<Recommendation> recommend(const RecommendRequest& request) = 0;
};

}  // namespace recsys::server
