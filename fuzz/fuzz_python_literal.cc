// libFuzzer target: the Python-literal parser of the Amazon 2014 metadata (datasets/). Malformed
// input must end in recsys::Error; anything else (crash, sanitizer report, other exception) is a
// finding.
#include <string_view>

#include "datasets/python_literal.h"
#include "recsys/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const recsys::data::PyValue v = recsys::data::parse_python_literal(text);
    (void)v.to_text();
    if (v.is_dict()) (void)v.get("asin");
  } catch (const recsys::Error&) {
  }
  return 0;
}
