#include "datasets/text_template.h"

#include <sstream>
#include <unordered_set>

#include "datasets/internal/html_entities.h"
#include "datasets/internal/utf8.h"
#include "recsys/error.h"

namespace recsys::data {

using internal::append_utf8;

namespace {

// HTML 4's entities, plus XML's "&apos;"; a non-breaking space becomes a plain one.
uint32_t entity_code_point(const std::string& name) {
  if (name == "nbsp") return ' ';
  if (name == "apos") return '\'';
  return internal::html_entity(name);
}

}  // namespace

std::string clean_text(const std::string& raw) {
  std::string decoded;
  decoded.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    if (raw[i] == '&') {
      const size_t semi = raw.find(';', i + 1);
      if (semi != std::string::npos && semi - i <= 10) {
        const std::string name = raw.substr(i + 1, semi - i - 1);
        bool done = false;
        if (name.size() >= 2 && name[0] == '#') {
          const bool hex = name[1] == 'x' || name[1] == 'X';
          const std::string digits = name.substr(hex ? 2 : 1);
          if (!digits.empty() &&
              digits.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") ==
                  std::string::npos) {
            append_utf8(decoded, uint32_t(std::stoul(digits, nullptr, hex ? 16 : 10)));
            done = true;
          }
        } else {
          if (const uint32_t cp = entity_code_point(name)) {
            append_utf8(decoded, cp);
            done = true;
          }
        }
        if (done) {
          i = semi + 1;
          continue;
        }
      }
    }
    decoded.push_back(raw[i++]);
  }
  // collapse whitespace, trim
  std::string out;
  out.reserve(decoded.size());
  bool space = false;
  for (char c : decoded) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
    } else {
      if (space) out.push_back(' ');
      space = false;
      out.push_back(c);
    }
  }
  return out;
}

std::vector<std::string> flatten_categories(const std::vector<std::vector<std::string>>& paths) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const auto& path : paths)
    for (const auto& c : path)
      if (!c.empty() && seen.insert(c).second) out.push_back(c);
  return out;
}

TextTemplate::TextTemplate(const std::string& fields) {
  std::stringstream ss(fields);
  std::string f;
  while (std::getline(ss, f, ',')) {
    if (f.empty()) continue;
    RECSYS_CHECK(
        f == "title" || f == "brand" || f == "categories" || f == "description" || f == "price",
        "unknown text field '", f, "' (valid: title, brand, categories, description, price)");
    fields_.push_back(f);
  }
  RECSYS_CHECK(!fields_.empty(), "the item text template needs at least one field");
}

std::string TextTemplate::render(const ItemRecord& item) const {
  std::string out;
  auto add = [&](const std::string& part) {
    if (part.empty()) return;
    if (!out.empty()) out += ". ";
    out += part;
  };
  for (const auto& f : fields_) {
    if (f == "title")
      add(item.title);
    else if (f == "brand")
      add(item.brand);
    else if (f == "description")
      add(item.description);
    else if (f == "price")
      add(item.price.empty() ? "" : "Price " + item.price);
    else if (f == "categories") {
      std::string cats;
      for (const auto& c : flatten_categories(item.categories)) {
        if (!cats.empty()) cats += ", ";
        cats += c;
      }
      add(cats);
    }
  }
  return out;
}

}  // namespace recsys::data
