#include "datasets/python_literal.h"

#include <algorithm>
#include <cstdlib>

#include "datasets/internal/number_text.h"
#include "datasets/internal/utf8.h"
#include "recsys/error.h"

namespace recsys::data {

using internal::format_shortest;

using internal::append_utf8;

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

class PyLiteralParser {
 public:
  explicit PyLiteralParser(std::string_view s) : s_(s) {}

  PyValue parse_top() {
    PyValue v = value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("end of input after the literal");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 64;

  [[noreturn]] void fail(const char* expected) {
    std::string near(s_.substr(pos_, 20));
    RECSYS_THROW(ErrorCode::kInvalidArgument, "Python literal: expected ", expected, " at column ",
                 pos_ + 1,
                 pos_ < s_.size() ? " near '" + near + "'" : std::string(" (end of input)"));
  }

  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }

  bool at_string_start() const {
    size_t p = pos_;
    // up to two prefix letters (u, b, r, rb, br, ...)
    for (int i = 0; i < 2 && p < s_.size(); ++i) {
      const char c = s_[p];
      if (c == 'u' || c == 'U' || c == 'b' || c == 'B' || c == 'r' || c == 'R')
        ++p;
      else
        break;
    }
    return p < s_.size() && (s_[p] == '\'' || s_[p] == '"');
  }

  PyValue value(int depth) {
    if (depth > kMaxDepth) fail("less nesting (limit 64)");
    skip_ws();
    if (pos_ >= s_.size()) fail("a value");
    const char c = s_[pos_];
    if (c == '{') return dict_or_set(depth);
    if (c == '[') return sequence(depth, ']');
    if (c == '(') return sequence(depth, ')');
    if (at_string_start()) {
      PyValue v;
      v.kind_ = PyValue::Kind::kString;
      // Adjacent literals concatenate: 'a' "b" == 'ab'.
      do {
        string_literal(v.str_);
        skip_ws();
      } while (pos_ < s_.size() && at_string_start());
      return v;
    }
    if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')) return number();
    if (word("None")) return PyValue();
    const bool is_true = word("True");
    if (is_true || word("False")) {
      PyValue v;
      v.kind_ = PyValue::Kind::kBool;
      v.num_ = is_true ? 1 : 0;
      return v;
    }
    fail("a value (dict, list, tuple, string, number, None, True or False)");
  }

  bool word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    const size_t end = pos_ + w.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_'))
      return false;
    pos_ = end;
    return true;
  }

  PyValue number() {
    const size_t start = pos_;
    if (s_[pos_] == '-' || s_[pos_] == '+') ++pos_;
    bool is_float = false;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c >= '0' && c <= '9') {
        ++pos_;
      } else if (c == '.' || c == 'e' || c == 'E') {
        is_float = true;
        ++pos_;
        if ((c == 'e' || c == 'E') && pos_ < s_.size() && (s_[pos_] == '-' || s_[pos_] == '+'))
          ++pos_;
      } else {
        break;
      }
    }
    const std::string text(s_.substr(start, pos_ - start));
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) {
      pos_ = start;
      fail("a number");
    }
    PyValue out;
    out.kind_ = is_float ? PyValue::Kind::kFloat : PyValue::Kind::kInt;
    out.num_ = v;
    return out;
  }

  void string_literal(std::string& out) {
    bool raw = false;
    while (s_[pos_] != '\'' && s_[pos_] != '"') {
      if (s_[pos_] == 'r' || s_[pos_] == 'R') raw = true;
      ++pos_;
    }
    const char q = s_[pos_];
    const bool triple = s_.substr(pos_, 3) == std::string(3, q);
    pos_ += triple ? 3 : 1;
    for (;;) {
      if (pos_ >= s_.size()) fail("the closing quote of a string");
      const char c = s_[pos_];
      if (c == q) {
        if (!triple) {
          ++pos_;
          return;
        }
        if (s_.substr(pos_, 3) == std::string(3, q)) {
          pos_ += 3;
          return;
        }
        out.push_back(c);
        ++pos_;
        continue;
      }
      if ((c == '\n' || c == '\r') && !triple) fail("the closing quote before the line ends");
      if (c != '\\' || raw) {
        if (c == '\\' && raw && pos_ + 1 < s_.size()) {  // raw keeps the backslash and next char
          out.push_back(c);
          out.push_back(s_[pos_ + 1]);
          pos_ += 2;
          continue;
        }
        out.push_back(c);
        ++pos_;
        continue;
      }
      // escape
      if (pos_ + 1 >= s_.size()) fail("an escape sequence");
      const char e = s_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case '\\':
          out.push_back('\\');
          break;
        case '\'':
          out.push_back('\'');
          break;
        case '"':
          out.push_back('"');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 'a':
          out.push_back('\a');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'v':
          out.push_back('\v');
          break;
        case '\n':
          break;  // line continuation
        case 'x':
          append_utf8(out, hex_escape(2));
          break;
        case 'u': {
          uint32_t cp = hex_escape(4);
          // Python 2's narrow builds wrote characters beyond U+FFFF as surrogate pairs.
          if (cp >= 0xD800 && cp <= 0xDBFF && s_.compare(pos_, 2, "\\u") == 0 &&
              pos_ + 6 <= s_.size()) {
            const size_t at = pos_;
            pos_ += 2;
            const uint32_t low = hex_escape(4);
            if (low >= 0xDC00 && low <= 0xDFFF)
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            else
              pos_ = at;  // a lone high surrogate, then another escape
          }
          append_utf8(out, cp);
          break;
        }
        case 'U':
          append_utf8(out, hex_escape(8));
          break;
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = uint32_t(e - '0');
            for (int i = 0; i < 2 && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '7'; ++i)
              v = v * 8 + uint32_t(s_[pos_++] - '0');
            append_utf8(out, v);
          } else {  // Python keeps unknown escapes verbatim
            out.push_back('\\');
            out.push_back(e);
          }
      }
    }
  }

  uint32_t hex_escape(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      if (pos_ >= s_.size() || hex_value(s_[pos_]) < 0) fail("hex digits in an escape");
      v = v * 16 + uint32_t(hex_value(s_[pos_++]));
    }
    return v;
  }

  PyValue sequence(int depth, char close) {
    ++pos_;
    PyValue v;
    v.kind_ = PyValue::Kind::kList;
    skip_ws();
    while (true) {
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == close) {
        ++pos_;
        return v;
      }
      v.list_.push_back(value(depth + 1));
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == close) {
        ++pos_;
        return v;
      }
      fail(close == ']' ? "',' or ']'" : "',' or ')'");
    }
  }

  PyValue dict_or_set(int depth) {
    ++pos_;
    PyValue v;
    v.kind_ = PyValue::Kind::kDict;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return v;
    }
    bool is_set = false;
    while (true) {
      PyValue key = value(depth + 1);
      skip_ws();
      if (v.dict_.empty() && v.list_.empty() && pos_ < s_.size() && s_[pos_] != ':') is_set = true;
      if (is_set) {
        v.kind_ = PyValue::Kind::kList;
        v.list_.push_back(std::move(key));
      } else {
        if (pos_ >= s_.size() || s_[pos_] != ':') fail("':' after a dict key");
        ++pos_;
        PyValue val = value(depth + 1);
        std::string name = key.to_text();
        // As in Python, a repeated key keeps its first place and takes the last value.
        auto same = std::find_if(v.dict_.begin(), v.dict_.end(),
                                 [&](const auto& entry) { return entry.first == name; });
        if (same != v.dict_.end())
          same->second = std::move(val);
        else
          v.dict_.emplace_back(std::move(name), std::move(val));
        skip_ws();
      }
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == '}') {
          ++pos_;
          return v;
        }
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return v;
      }
      fail("',' or '}'");
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

const PyValue* PyValue::get(std::string_view key) const {
  for (const auto& [k, v] : dict_)
    if (k == key) return &v;
  return nullptr;
}

std::string PyValue::to_text() const {
  switch (kind_) {
    case Kind::kNone:
      return "";
    case Kind::kBool:
      return num_ ? "True" : "False";
    case Kind::kString:
      return str_;
    case Kind::kInt: {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.0f", num_);
      return buf;
    }
    case Kind::kFloat:
      return format_shortest(num_);
    case Kind::kList: {
      std::string out;
      for (const auto& v : list_) {
        std::string t = v.to_text();
        if (t.empty()) continue;
        if (!out.empty()) out += ' ';
        out += t;
      }
      return out;
    }
    case Kind::kDict:
      return "";
  }
  return "";
}

PyValue parse_python_literal(std::string_view text) { return PyLiteralParser(text).parse_top(); }

}  // namespace recsys::data
