#include "recsys/strings.h"

#include <algorithm>
#include <charconv>
#include <iomanip>
#include <sstream>

#include "recsys/error.h"

namespace recsys {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string format_fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

std::vector<int64_t> parse_int_list(const std::string& text, const std::string& what,
                                    int64_t min_value, int64_t max_value) {
  std::vector<int64_t> out;
  size_t begin = 0;
  while (true) {
    const size_t end = std::min(text.find(',', begin), text.size());
    const std::string part = trim(text.substr(begin, end - begin));
    int64_t v = 0;
    const char* first = part.data();
    const char* last = part.data() + part.size();
    const auto [ptr, ec] = std::from_chars(first, last, v);
    if (part.empty() || ec != std::errc() || ptr != last) {
      RECSYS_THROW(ErrorCode::kInvalidArgument, what, ": '", part, "' is not an integer (in '",
                   text, "')");
    }
    if (v < min_value || v > max_value) {
      RECSYS_THROW(ErrorCode::kInvalidArgument, what, ": ", v, " is out of range [", min_value,
                   ", ", max_value, "]");
    }
    out.push_back(v);
    if (end == text.size()) break;
    begin = end + 1;
  }
  return out;
}

}  // namespace recsys
