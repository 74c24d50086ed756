// JSON as Python's json module writes it. Amazon's dumps were written by Python, whose json
// module reads (and, by default, writes) a little more than strict JSON: lone surrogate escapes,
// NaN / Infinity, integers of any size. simdjson and nlohmann::json reject those lines; Python
// reads them. This rewrites such a line into strict JSON that means what Python reads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace recsys::data::internal {

// `line` with the Python-only parts made strict, or nullopt when it has none (so a parse error
// of `line` is a real error):
// - a \uD800-\uDFFF escape that is not half of a high-low pair becomes \uFFFD (Python keeps the
//   lone surrogate, which has no UTF-8 form);
// - NaN, Infinity and -Infinity outside strings become null;
// - an integer with more than 18 digits gets ".0", so it reads as the nearest double instead of
//   failing a 64-bit integer parse.
// The rest of the line is copied unchanged, malformed or not.
std::optional<std::string> strict_json_from_python(std::string_view line);

}  // namespace recsys::data::internal
