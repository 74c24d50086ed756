#include "indexer/text_words.h"

#include <unordered_set>

namespace recsys::indexer {
namespace {

bool is_word_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c >= 0x80;
}

}  // namespace

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    while (i < n && !is_word_char(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < n && is_word_char(static_cast<unsigned char>(text[j]))) ++j;
    if (j - i >= 2) {
      std::string w = text.substr(i, j - i);
      for (char& c : w)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      words.push_back(std::move(w));
    }
    i = j;
  }
  return words;
}

bool is_stop_word(const std::string& word) {
  static const std::unordered_set<std::string> kStop = {
      "a",   "an",   "and", "are",  "as",  "at",   "be",    "by",  "for",  "from",
      "has", "in",   "is",  "it",   "its", "of",   "on",    "or",  "that", "the",
      "to",  "with", "oz",  "ml",   "fl",  "pack", "count", "set", "pc",   "pcs",
      "x",   "by",   "new", "your", "you", "this", "all",   "one", "1",    "2",
      "3",   "4",    "5",   "6",    "8",   "10",   "12",    "100", "inch", "size"};
  return kStop.count(word) > 0;
}

}  // namespace recsys::indexer
