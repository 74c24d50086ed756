// Numbers of item metadata (prices) as item text.
#pragma once

#include <charconv>
#include <string>

namespace recsys::data::internal {

// The shortest decimal that reads back as `v`, in plain notation: "12345.67", "1234567", "0.1"
// (printf's "%g" keeps 6 digits: "12345.7", "1.23457e+06").
inline std::string format_shortest(double v) {
  char buf[400];  // the longest plain double (-1.8e308 in full) has 310 characters
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (r.ec != std::errc()) r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace recsys::data::internal
