#include <simdjson.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>

#include "datasets/internal/number_text.h"
#include "datasets/internal/python_json.h"
#include "datasets/line_reader.h"
#include "datasets/python_literal.h"
#include "datasets/readers.h"
#include "datasets/text_template.h"
#include "recsys/error.h"
#include "recsys/logging.h"
#include "recsys/progress.h"

namespace recsys::data {

namespace {

// One parsed line: the value, or the reason it was rejected.
template <typename T>
struct Parsed {
  std::optional<T> value;
  std::string error;
};

// Parses every non-blank line in parallel, then applies the bad-record policy in file order.
template <typename T, typename Fn>
std::vector<T> parse_lines(const TextFile& file, const ReadOptions& options, RawCorpus& corpus,
                           const char* label, Fn parse_one) {
  const auto& lines = file.lines();
  const auto start = std::chrono::steady_clock::now();
  std::vector<Parsed<T>> parsed(lines.size());
  Progress progress(std::string("read ") + label, lines.size(), "lines", 2.0);
  tbb::parallel_for(tbb::blocked_range<size_t>(0, lines.size(), 2048),
                    [&](const tbb::blocked_range<size_t>& r) {
                      for (size_t i = r.begin(); i < r.end(); ++i) {
                        std::string_view line = lines[i];
                        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
                        try {
                          parsed[i].value = parse_one(line);
                        } catch (const std::exception& e) {
                          parsed[i].error = e.what();
                          if (parsed[i].error.empty()) parsed[i].error = "malformed record";
                        }
                      }
                      progress.add(r.size());
                    });
  std::vector<T> out;
  out.reserve(lines.size());
  for (size_t i = 0; i < parsed.size(); ++i) {
    if (parsed[i].value) {
      out.push_back(std::move(*parsed[i].value));
    } else if (!parsed[i].error.empty()) {
      report_bad_record(options, corpus, file.path(), i + 1, parsed[i].error);
    }
  }
  RECSYS_LOG(Debug)
      << label << ": " << out.size() << " records from " << file.path() << ", parsed in "
      << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s";
  return out;
}

std::string strip_location(std::string msg) {
  // Errors from RECSYS_THROW carry " [file.cc:123]": keep the record message readable.
  const size_t p = msg.rfind(" [");
  if (p != std::string::npos && msg.back() == ']') msg.resize(p);
  return msg;
}

RawInteraction parse_review(simdjson::dom::parser& parser, std::string_view line) {
  simdjson::dom::element doc;
  if (auto err = parser.parse(line.data(), line.size()).get(doc)) {
    // Python's json reads lone surrogate escapes, NaN and long integers; read those lines too.
    const std::optional<std::string> strict = internal::strict_json_from_python(line);
    if (!strict || parser.parse(*strict).get(doc))
      throw std::runtime_error(std::string("invalid JSON (") + simdjson::error_message(err) + ")");
  }
  if (!doc.is_object()) throw std::runtime_error("expected a JSON object");
  RawInteraction r;
  auto get_str = [&](const char* key, std::string& out) {
    std::string_view v;
    auto field = doc[key];
    if (field.error()) return false;
    if (field.get_string().get(v)) {
      // some dumps store ids as numbers
      int64_t n;
      if (field.get_int64().get(n))
        throw std::runtime_error(std::string("field '") + key + "' is not a string");
      out = std::to_string(n);
      return true;
    }
    out.assign(v);
    return true;
  };
  auto get_num = [&](const char* key, double& out) {
    auto field = doc[key];
    if (field.error()) return false;
    if (field.get_double().get(out)) {
      std::string_view s;
      if (field.get_string().get(s))
        throw std::runtime_error(std::string("field '") + key + "' is not a number");
      // The whole text must be the number ("2013-05-01" is not 2013; "5 stars" is not 5).
      while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
      while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
      if (!s.empty() && s.front() == '+') s.remove_prefix(1);
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        throw std::runtime_error(std::string("field '") + key + "' is not a number: \"" +
                                 std::string(s) + "\"");
    }
    return true;
  };
  double ts = 0, millis = -1;           // 2023 dumps stamp in milliseconds
  if (get_str("reviewerID", r.user)) {  // 2014 / 2018
    if (!get_str("asin", r.item)) throw std::runtime_error("missing field 'asin'");
    if (!get_num("unixReviewTime", ts)) throw std::runtime_error("missing field 'unixReviewTime'");
    double rating;
    if (get_num("overall", rating)) {
      r.rating = float(rating);
      r.has_rating = true;
    }
  } else if (get_str("user_id", r.user)) {  // 2023
    if (!get_str("parent_asin", r.item) && !get_str("asin", r.item))
      throw std::runtime_error("missing field 'parent_asin'");
    if (!get_num("timestamp", ts)) throw std::runtime_error("missing field 'timestamp'");
    millis = ts;
    ts /= 1000.0;
    double rating;
    if (get_num("rating", rating)) {
      r.rating = float(rating);
      r.has_rating = true;
    }
  } else {
    throw std::runtime_error("missing field 'reviewerID' (2014/2018) or 'user_id' (2023)");
  }
  if (r.user.empty() || r.item.empty()) throw std::runtime_error("empty user or item id");
  if (!to_timestamp(ts, r.timestamp))
    throw std::runtime_error("timestamp " + std::to_string(ts) + " is not a time in seconds");
  if (millis >= 0)
    r.millis = uint16_t(std::clamp(millis - double(r.timestamp) * 1000.0, 0.0, 999.0));
  return r;
}

// ----- metadata

std::vector<std::vector<std::string>> category_paths_from_py(const PyValue* v) {
  std::vector<std::vector<std::string>> out;
  if (!v || !v->is_list()) return out;
  bool nested = false;
  for (const auto& e : v->list()) nested = nested || e.is_list();
  if (nested) {
    for (const auto& path : v->list()) {
      std::vector<std::string> p;
      if (path.is_list()) {
        for (const auto& c : path.list()) p.push_back(clean_text(c.to_text()));
      } else {
        p.push_back(clean_text(path.to_text()));
      }
      out.push_back(std::move(p));
    }
  } else if (!v->list().empty()) {
    std::vector<std::string> p;
    for (const auto& c : v->list()) p.push_back(clean_text(c.to_text()));
    out.push_back(std::move(p));
  }
  return out;
}

ItemRecord meta_from_python(std::string_view line) {
  PyValue v;
  try {
    v = parse_python_literal(line);
  } catch (const Error& e) {
    throw std::runtime_error(strip_location(e.what()));
  }
  if (!v.is_dict()) throw std::runtime_error("expected a dict literal");
  ItemRecord item;
  const PyValue* id = v.get("asin");
  if (!id) id = v.get("parent_asin");
  if (!id || id->to_text().empty()) throw std::runtime_error("missing field 'asin'");
  item.external_id = id->to_text();
  if (const PyValue* t = v.get("title")) item.title = clean_text(t->to_text());
  if (const PyValue* b = v.get("brand")) item.brand = clean_text(b->to_text());
  if (const PyValue* d = v.get("description")) item.description = clean_text(d->to_text());
  if (const PyValue* p = v.get("price")) item.price = p->to_text();
  item.categories = category_paths_from_py(v.get("categories"));
  if (item.categories.empty()) item.categories = category_paths_from_py(v.get("category"));
  return item;
}

std::string json_text(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_integer()) return std::to_string(j.get<int64_t>());
  if (j.is_number()) return internal::format_shortest(j.get<double>());
  if (j.is_array()) {
    std::string out;
    for (const auto& e : j) {
      std::string t = json_text(e);
      if (t.empty()) continue;
      if (!out.empty()) out += ' ';
      out += t;
    }
    return out;
  }
  return "";
}

std::vector<std::vector<std::string>> category_paths_from_json(const nlohmann::json& j) {
  std::vector<std::vector<std::string>> out;
  if (!j.is_array() || j.empty()) return out;
  bool nested = false;
  for (const auto& e : j) nested = nested || e.is_array();
  if (nested) {
    for (const auto& path : j) {
      std::vector<std::string> p;
      if (path.is_array()) {
        for (const auto& c : path) p.push_back(clean_text(json_text(c)));
      } else {
        p.push_back(clean_text(json_text(path)));
      }
      out.push_back(std::move(p));
    }
  } else {
    std::vector<std::string> p;
    for (const auto& c : j) p.push_back(clean_text(json_text(c)));
    out.push_back(std::move(p));
  }
  return out;
}

ItemRecord meta_from_json(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {  // as for reviews: what Python's json reads is read
    if (const std::optional<std::string> strict = internal::strict_json_from_python(line))
      j = nlohmann::json::parse(*strict, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) throw std::runtime_error("invalid JSON");
  }
  if (!j.is_object()) throw std::runtime_error("expected a JSON object");
  ItemRecord item;
  auto field = [&](const char* key) -> const nlohmann::json* {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  };
  const nlohmann::json* id = field("parent_asin");
  if (!id) id = field("asin");
  if (!id || json_text(*id).empty()) throw std::runtime_error("missing field 'asin'/'parent_asin'");
  item.external_id = json_text(*id);
  if (auto* t = field("title")) item.title = clean_text(json_text(*t));
  if (auto* b = field("brand")) item.brand = clean_text(json_text(*b));
  if (item.brand.empty())
    if (auto* s = field("store")) item.brand = clean_text(json_text(*s));
  if (auto* d = field("description")) item.description = clean_text(json_text(*d));
  if (auto* p = field("price")) item.price = json_text(*p);
  if (auto* c = field("categories")) item.categories = category_paths_from_json(*c);
  if (item.categories.empty())
    if (auto* c = field("category")) item.categories = category_paths_from_json(*c);
  if (item.categories.empty())
    if (auto* c = field("main_category")) item.categories = {{clean_text(json_text(*c))}};
  return item;
}

}  // namespace

void read_amazon_reviews(const std::string& path, const ReadOptions& options, RawCorpus& corpus) {
  TextFile file(path);
  if (file.lines().empty()) RECSYS_THROW(ErrorCode::kInvalidArgument, "'", path, "' is empty");
  tbb::enumerable_thread_specific<simdjson::dom::parser> parsers;
  auto records = parse_lines<RawInteraction>(
      file, options, corpus, "reviews",
      [&](std::string_view line) { return parse_review(parsers.local(), line); });
  if (corpus.interactions.empty()) {
    corpus.interactions = std::move(records);
  } else {
    corpus.interactions.insert(corpus.interactions.end(), std::make_move_iterator(records.begin()),
                               std::make_move_iterator(records.end()));
  }
  corpus.files.push_back(path);
}

void read_amazon_meta(const std::string& path, const ReadOptions& options, RawCorpus& corpus) {
  TextFile file(path);
  if (file.lines().empty()) RECSYS_THROW(ErrorCode::kInvalidArgument, "'", path, "' is empty");
  auto records = parse_lines<ItemRecord>(file, options, corpus, "meta", [](std::string_view line) {
    const size_t p = line.find_first_not_of(" \t");
    const size_t q = line.find_first_not_of(" \t", p + 1);
    // {'asin': ... is a Python literal; {"asin": ... is JSON.
    if (p != std::string_view::npos && line[p] == '{' && q != std::string_view::npos &&
        line[q] == '"')
      return meta_from_json(line);
    return meta_from_python(line);
  });
  corpus.meta_records += records.size();
  for (auto& r : records) {
    std::string key = r.external_id;
    corpus.meta.insert_or_assign(std::move(key), std::move(r));
  }
  corpus.files.push_back(path);
}

}  // namespace recsys::data
