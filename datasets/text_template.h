// Item text: which record fields go into ItemRecord::text and in which order, plus the clean-up
// applied to raw metadata strings (HTML entities decoded, whitespace collapsed).
#pragma once

#include <string>
#include <vector>

#include "recsys/types.h"

namespace recsys::data {

class TextTemplate {
 public:
  // fields: comma-separated subset of title, brand, categories, description, price.
  explicit TextTemplate(const std::string& fields = "title,brand,categories,description");
  // "Title. Brand. Cat A, Cat B. Description" (empty fields skipped; categories flattened,
  // de-duplicated, in path order).
  std::string render(const ItemRecord& item) const;

 private:
  std::vector<std::string> fields_;
};

// Decodes HTML 4 named entities (&amp; &egrave; &bull; ..., plus &apos;; &nbsp; becomes a space)
// and numeric ones (&#39; &#x27;), and collapses runs of whitespace. Unknown names stay as text.
std::string clean_text(const std::string& raw);

// Category names of all paths, flattened and de-duplicated, in order.
std::vector<std::string> flatten_categories(const std::vector<std::vector<std::string>>& paths);

}  // namespace recsys::data
