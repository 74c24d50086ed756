// A parser for the Python-literal dicts of the Amazon 2014 metadata files (what ast.literal_eval
// accepts for them): single/double/triple-quoted strings with escapes (\n, \', \xhh, \uXXXX,
// \UXXXXXXXX, octal), optional u/b/r prefixes, adjacent-string concatenation, ints, floats,
// None/True/False, lists, tuples, dicts and sets. Strings come back as UTF-8.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace recsys::data {

class PyValue {
 public:
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kList, kDict };

  PyValue() = default;
  Kind kind() const { return kind_; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }

  const std::string& str() const { return str_; }             // kString
  bool boolean() const { return num_ != 0; }                  // kBool
  double number() const { return num_; }                      // kInt, kFloat, kBool
  const std::vector<PyValue>& list() const { return list_; }  // kList (tuples and sets too)
  const std::vector<std::pair<std::string, PyValue>>& dict() const { return dict_; }
  // Dict lookup by string key; nullptr if absent (or not a dict).
  const PyValue* get(std::string_view key) const;
  // Renders the value as text: strings as they are, numbers in shortest form, lists joined.
  std::string to_text() const;

 private:
  friend class PyLiteralParser;
  Kind kind_ = Kind::kNone;
  double num_ = 0;
  std::string str_;
  std::vector<PyValue> list_;
  std::vector<std::pair<std::string, PyValue>> dict_;  // keys rendered as text
};

// Parses one literal. Throws recsys::Error(kInvalidArgument) with the column and what was
// expected on malformed input.
PyValue parse_python_literal(std::string_view text);

}  // namespace recsys::data
