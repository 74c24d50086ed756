#include "datasets/raw_corpus.h"

#include <cmath>

#include "recsys/error.h"
#include "recsys/logging.h"

namespace recsys::data {

bool to_timestamp(double seconds, int64_t& out) {
  constexpr double kLimit = 9223372036854775808.0;  // 2^63, exact in a double
  if (!std::isfinite(seconds) || seconds >= kLimit || seconds < -kLimit) return false;
  out = static_cast<int64_t>(seconds);
  return true;
}

void report_bad_record(const ReadOptions& options, RawCorpus& corpus, const std::string& file,
                       uint64_t line, const std::string& problem) {
  if (options.on_bad_record == BadRecordPolicy::kFail)
    RECSYS_THROW(ErrorCode::kInvalidArgument, file, ":", line, ": ", problem,
                 " (pass --on-bad-record=skip to skip such records)");
  if (++corpus.skipped_records <= 5)
    RECSYS_LOG(Warning) << "skipping " << file << ":" << line << ": " << problem;
}

}  // namespace recsys::data
