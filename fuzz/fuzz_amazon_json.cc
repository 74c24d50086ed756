// libFuzzer target: the Amazon review and metadata line readers (JSON via simdjson / nlohmann,
// Python literals, plain or gzip). The input is written to a file and read with both readers;
// a bad record must end in recsys::Error naming the file and line.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "datasets/readers.h"
#include "recsys/error.h"
#include "recsys/logging.h"

namespace {
std::string path;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  recsys::set_log_level(recsys::LogLevel::kOff);
  path = (std::filesystem::temp_directory_path() /
          ("recsys_fuzz_amazon_" + std::to_string(getpid()) + ".json"))
             .string();
  std::atexit([] { std::remove(path.c_str()); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  for (int reader = 0; reader < 2; ++reader) {
    recsys::data::RawCorpus corpus;
    recsys::data::ReadOptions options;
    options.on_bad_record = recsys::data::BadRecordPolicy::kFail;
    try {
      if (reader == 0)
        recsys::data::read_amazon_reviews(path, options, corpus);
      else
        recsys::data::read_amazon_meta(path, options, corpus);
    } catch (const recsys::Error&) {
    }
  }
  return 0;
}
