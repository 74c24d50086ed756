#include "datasets/internal/python_json.h"

#include <cctype>

namespace recsys::data::internal {

namespace {

// The code unit of a \uXXXX escape starting at line[i] ('\\'), or -1.
int escaped_unit(std::string_view line, size_t i) {
  if (i + 6 > line.size() || line[i] != '\\' || line[i + 1] != 'u') return -1;
  int unit = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    const char c = line[k];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return -1;
    }
    unit = unit * 16 + d;
  }
  return unit;
}

bool is_high(int unit) { return unit >= 0xD800 && unit <= 0xDBFF; }
bool is_low(int unit) { return unit >= 0xDC00 && unit <= 0xDFFF; }

bool starts_with(std::string_view s, size_t i, std::string_view word) {
  return s.substr(i, word.size()) == word;
}

}  // namespace

std::optional<std::string> strict_json_from_python(std::string_view line) {
  std::string out;
  out.reserve(line.size() + 16);
  bool changed = false;
  size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (c == '"') {  // a string: copy it, mending lone surrogate escapes
      out += c;
      ++i;
      while (i < line.size() && line[i] != '"') {
        if (line[i] != '\\' || i + 1 >= line.size()) {
          out += line[i++];
          continue;
        }
        const int unit = escaped_unit(line, i);
        if (is_high(unit) && is_low(escaped_unit(line, i + 6))) {  // a pair: keep both halves
          out.append(line.substr(i, 12));
          i += 12;
        } else if (is_high(unit) || is_low(unit)) {
          out += "\\uFFFD";
          changed = true;
          i += 6;
        } else {  // any other escape: two characters, so an escaped quote stays in the string
          out.append(line.substr(i, 2));
          i += 2;
        }
      }
      if (i < line.size()) out += line[i++];
    } else if (starts_with(line, i, "NaN") || starts_with(line, i, "Infinity") ||
               starts_with(line, i, "-Infinity")) {
      const size_t n = line[i] == 'N' ? 3 : line[i] == 'I' ? 8 : 9;
      out += "null";
      changed = true;
      i += n;
    } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {  // a number
      const size_t start = i;
      if (c == '-') ++i;
      while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
      const size_t digits = i - start - (c == '-' ? 1 : 0);
      const bool integer = i >= line.size() || (line[i] != '.' && line[i] != 'e' && line[i] != 'E');
      out.append(line.substr(start, i - start));
      if (integer && digits > 18) {
        out += ".0";
        changed = true;
      }
    } else {
      out += c;
      ++i;
    }
  }
  if (!changed) return std::nullopt;
  return out;
}

}  // namespace recsys::data::internal
