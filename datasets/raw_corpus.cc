#include "datasets/raw_corpus.h"

#include "recsys/error.h"
#include "recsys/logging.h"

namespace recsys::data {

void report_bad_record(const ReadOptions& options, RawCorpus& corpus, const std::string& file,
                       uint64_t line, const std::string& problem) {
  if (options.on_bad_record == BadRecordPolicy::kFail)
    RECSYS_THROW(ErrorCode::kInvalidArgument, file, ":", line, ": ", problem,
                 " (pass --on-bad-record=skip to skip such records)");
  if (++corpus.skipped_records <= 5)
    RECSYS_LOG(Warning) << "skipping " << file << ":" << line << ": " << problem;
}

}  // namespace recsys::data
