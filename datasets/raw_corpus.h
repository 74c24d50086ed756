// What the format readers produce: interactions in file order plus item metadata keyed by the
// external item id. datasets/prepare.h turns it into a recsys::Dataset.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "recsys/types.h"

namespace recsys::data {

struct RawInteraction {
  std::string user;
  std::string item;
  int64_t timestamp = 0;  // seconds
  uint16_t millis = 0;    // past `timestamp` (2023 dumps stamp in ms): orders a user's second
  float rating = 0;
  bool has_rating = false;
};

// How readers treat a malformed record.
enum class BadRecordPolicy { kFail, kSkip };

struct ReadOptions {
  BadRecordPolicy on_bad_record = BadRecordPolicy::kFail;
};

struct RawCorpus {
  std::vector<RawInteraction> interactions;          // file order
  std::unordered_map<std::string, ItemRecord> meta;  // external id -> record (text not yet built)
  uint64_t skipped_records = 0;                      // bad records skipped under kSkip
  uint64_t meta_records = 0;
  std::vector<std::string> files;  // what was read
};

// Records a bad record: throws under kFail (message names file, line, problem); counts and logs
// the first few under kSkip.
void report_bad_record(const ReadOptions& options, RawCorpus& corpus, const std::string& file,
                       uint64_t line, const std::string& problem);

// A timestamp read as a number of seconds, truncated; false when it is not finite or lies beyond
// the range of int64 (strtod and stod read "nan" and "inf").
bool to_timestamp(double seconds, int64_t& out);

}  // namespace recsys::data
