#include "recsys/id_map.h"

#include <set>

#include "recsys/error.h"

namespace recsys {

void IdMap::validate() const {
  std::set<SemanticId> seen;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].size() != vocab.size())
      RECSYS_THROW(ErrorCode::kCorruption, "ID map '", name, "': item ", i, " has ", ids[i].size(),
                   " tokens, expected ", vocab.size());
    for (size_t p = 0; p < vocab.size(); ++p)
      if (ids[i][p] >= vocab[p])
        RECSYS_THROW(ErrorCode::kCorruption, "ID map '", name, "': item ", i, " token ", p, " = ",
                     ids[i][p], " outside vocabulary ", vocab[p]);
    if (!seen.insert(ids[i]).second)
      RECSYS_THROW(ErrorCode::kCorruption, "ID map '", name, "': duplicate ID ",
                   format_semantic_id(ids[i]), " at item ", i);
  }
}

}  // namespace recsys
