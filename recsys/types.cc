#include "recsys/types.h"

#include <charconv>

#include "recsys/error.h"

namespace recsys {

void Dataset::finalize_stats() {
  stats.num_users = users.size();
  stats.num_items = items.size();
  stats.num_interactions = 0;
  stats.items_without_metadata = 0;
  stats.split = SplitSizes{};
  for (const auto& u : users) {
    stats.num_interactions += u.items.size();
    const size_t n = u.items.size();
    if (n >= 3) {
      stats.split.train_interactions += n - 2;
      stats.split.valid_users += 1;
      stats.split.test_users += 1;
    } else if (n == 2) {
      stats.split.train_interactions += 1;
      stats.split.test_users += 1;
    } else {
      stats.split.train_interactions += n;
    }
  }
  for (const auto& it : items)
    if (it.title.empty() && it.categories.empty() && it.description.empty()) {
      stats.items_without_metadata += 1;
    }
}

std::string format_semantic_id(const SemanticId& id) {
  std::string out;
  for (size_t i = 0; i < id.size(); ++i) {
    if (i) out.push_back('-');
    out += std::to_string(id[i]);
  }
  return out;
}

SemanticId parse_semantic_id(const std::string& text) {
  SemanticId id;
  const char* p = text.data();
  const char* end = p + text.size();
  RECSYS_CHECK(!text.empty(), "empty semantic ID");
  while (p < end) {
    unsigned v = 0;
    auto [next, ec] = std::from_chars(p, end, v);
    RECSYS_CHECK(ec == std::errc() && next != p && v <= 0xFFFF, "malformed semantic ID '", text,
                 "': expected tokens like 12-7-201");
    id.push_back(static_cast<Token>(v));
    p = next;
    if (p < end) {
      RECSYS_CHECK(*p == '-' && p + 1 < end, "malformed semantic ID '", text,
                   "': expected tokens like 12-7-201");
      ++p;
    }
  }
  return id;
}

}  // namespace recsys
