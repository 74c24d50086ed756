// Word splitting shared by the TF-IDF featuriser and the ID quality report: lower-cased runs of
// word characters (ASCII letters, digits, '_', and any non-ASCII byte) of at least two characters,
// scikit-learn's default token pattern \b\w\w+\b.
#pragma once

#include <string>
#include <vector>

namespace recsys::indexer {

std::vector<std::string> split_words(const std::string& text);

// A small English stop-word list, used only to pick readable words for the report.
bool is_stop_word(const std::string& word);

}  // namespace recsys::indexer
