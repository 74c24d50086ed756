// RecBole atomic files and MovieLens CSVs: delimited text with a header row.
#include <cstdlib>
#include <optional>
#include <unordered_map>

#include "datasets/line_reader.h"
#include "datasets/readers.h"
#include "datasets/text_template.h"
#include "recsys/error.h"

namespace recsys::data {

namespace {

// Splits a CSV line with RFC 4180 quoting ("a, b" and doubled quotes). Throws on an unclosed quote.
std::vector<std::string> split_csv(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur.push_back(c);
      }
    } else if (c == '"' && cur.empty()) {
      quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (quoted) throw std::runtime_error("unclosed quote");
  out.push_back(std::move(cur));
  return out;
}

std::vector<std::string> split_tab(std::string_view line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t p = line.find('\t', start);
    out.emplace_back(line.substr(start, p == std::string_view::npos ? line.npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

bool parse_double(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

// Splits line `lineno` of `path` as CSV; a malformed line is reported (and skipped) instead.
std::optional<std::vector<std::string>> csv_fields(std::string_view line, const std::string& path,
                                                   size_t lineno, const ReadOptions& options,
                                                   RawCorpus& corpus) {
  try {
    return split_csv(line);
  } catch (const std::exception& e) {
    report_bad_record(options, corpus, path, lineno, e.what());
    return std::nullopt;
  }
}

// Splits line `lineno` of `path` on tabs; a row without `expected` fields is reported instead.
std::optional<std::vector<std::string>> tab_fields(std::string_view line, size_t expected,
                                                   const std::string& path, size_t lineno,
                                                   const ReadOptions& options, RawCorpus& corpus) {
  auto f = split_tab(line);
  if (f.size() == expected) return f;
  report_bad_record(options, corpus, path, lineno,
                    "expected " + std::to_string(expected) + " tab-separated fields, got " +
                        std::to_string(f.size()));
  return std::nullopt;
}

// RecBole header "user_id:token\titem_id:token\t..." -> column index by field name.
std::unordered_map<std::string, size_t> recbole_header(const TextFile& file) {
  if (file.lines().empty())
    RECSYS_THROW(ErrorCode::kInvalidArgument, "'", file.path(), "' is empty");
  std::unordered_map<std::string, size_t> cols;
  const auto fields = split_tab(file.lines()[0]);
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string& f = fields[i];
    const size_t colon = f.find(':');
    if (colon == std::string::npos)
      RECSYS_THROW(ErrorCode::kInvalidArgument, file.path(), ":1: header field '", f,
                   "' lacks a type (expected name:token, name:float, name:token_seq, ...)");
    const std::string type = f.substr(colon + 1);
    if (type != "token" && type != "float" && type != "token_seq" && type != "float_seq")
      RECSYS_THROW(ErrorCode::kInvalidArgument, file.path(), ":1: unknown field type '", type,
                   "' (valid: token, float, token_seq, float_seq)");
    cols[f.substr(0, colon)] = i;
  }
  return cols;
}

}  // namespace

void read_recbole(const std::string& inter_path, const std::string& item_path,
                  const ReadOptions& options, RawCorpus& corpus) {
  {
    TextFile file(inter_path);
    const auto cols = recbole_header(file);
    for (const char* need : {"user_id", "item_id"})
      if (!cols.count(need))
        RECSYS_THROW(ErrorCode::kInvalidArgument, inter_path, ":1: header has no '", need,
                     "' column");
    const size_t u = cols.at("user_id"), it = cols.at("item_id");
    const auto ts_col = cols.find("timestamp");
    const auto rating_col = cols.find("rating");
    const auto& lines = file.lines();
    corpus.interactions.reserve(corpus.interactions.size() + lines.size());
    for (size_t i = 1; i < lines.size(); ++i) {
      if (blank(lines[i])) continue;
      const auto fields = tab_fields(lines[i], cols.size(), inter_path, i + 1, options, corpus);
      if (!fields) continue;
      const auto& f = *fields;
      RawInteraction r;
      r.user = f[u];
      r.item = f[it];
      double v = 0;
      if (ts_col != cols.end()) {
        if (!parse_double(f[ts_col->second], v)) {
          report_bad_record(options, corpus, inter_path, i + 1,
                            "timestamp '" + f[ts_col->second] + "' is not a number");
          continue;
        }
        if (!to_timestamp(v, r.timestamp)) {
          report_bad_record(options, corpus, inter_path, i + 1,
                            "timestamp '" + f[ts_col->second] + "' is not a time in seconds");
          continue;
        }
      }
      if (rating_col != cols.end()) {
        if (!parse_double(f[rating_col->second], v)) {
          report_bad_record(options, corpus, inter_path, i + 1,
                            "rating '" + f[rating_col->second] + "' is not a number");
          continue;
        }
        r.rating = float(v);
        r.has_rating = true;
      }
      if (r.user.empty() || r.item.empty()) {
        report_bad_record(options, corpus, inter_path, i + 1, "empty user or item id");
        continue;
      }
      corpus.interactions.push_back(std::move(r));
    }
    corpus.files.push_back(inter_path);
  }
  if (item_path.empty()) return;
  TextFile file(item_path);
  const auto cols = recbole_header(file);
  if (!cols.count("item_id"))
    RECSYS_THROW(ErrorCode::kInvalidArgument, item_path, ":1: header has no 'item_id' column");
  auto col = [&](const char* name) -> long {
    auto c = cols.find(name);
    return c == cols.end() ? -1 : long(c->second);
  };
  const long title = col("title"), brand = col("brand"), desc = col("description"),
             price = col("price");
  long cats = col("categories");
  if (cats < 0) cats = col("category");
  if (cats < 0) cats = col("genre");
  const auto& lines = file.lines();
  for (size_t i = 1; i < lines.size(); ++i) {
    if (blank(lines[i])) continue;
    const auto fields = tab_fields(lines[i], cols.size(), item_path, i + 1, options, corpus);
    if (!fields) continue;
    const auto& f = *fields;
    ItemRecord item;
    item.external_id = f[cols.at("item_id")];
    if (title >= 0) item.title = clean_text(f[title]);
    if (brand >= 0) item.brand = clean_text(f[brand]);
    if (desc >= 0) item.description = clean_text(f[desc]);
    if (price >= 0) item.price = f[price];
    if (cats >= 0 && !f[cats].empty()) {
      // token_seq: space-separated tokens, one category path
      std::vector<std::string> path;
      size_t s = 0;
      const std::string& c = f[cats];
      while (s < c.size()) {
        size_t e = c.find(' ', s);
        if (e == std::string::npos) e = c.size();
        if (e > s) path.push_back(clean_text(c.substr(s, e - s)));
        s = e + 1;
      }
      item.categories.push_back(std::move(path));
    }
    corpus.meta_records += 1;
    std::string key = item.external_id;
    corpus.meta.insert_or_assign(std::move(key), std::move(item));
  }
  corpus.files.push_back(item_path);
}

void read_movielens(const std::string& ratings_path, const std::string& movies_path,
                    const ReadOptions& options, RawCorpus& corpus) {
  {
    TextFile file(ratings_path);
    const auto& lines = file.lines();
    if (lines.empty()) RECSYS_THROW(ErrorCode::kInvalidArgument, "'", ratings_path, "' is empty");
    const auto header = split_csv(lines[0]);
    if (header.size() < 4 || header[0] != "userId" || header[1] != "movieId" ||
        header[2] != "rating" || header[3] != "timestamp")
      RECSYS_THROW(ErrorCode::kInvalidArgument, ratings_path,
                   ":1: expected the header userId,movieId,rating,timestamp");
    corpus.interactions.reserve(corpus.interactions.size() + lines.size());
    for (size_t i = 1; i < lines.size(); ++i) {
      if (blank(lines[i])) continue;
      const auto fields = csv_fields(lines[i], ratings_path, i + 1, options, corpus);
      if (!fields) continue;
      const auto& f = *fields;
      double rating = 0, ts = 0;
      if (f.size() < 4 || f[0].empty() || f[1].empty() || !parse_double(f[2], rating) ||
          !parse_double(f[3], ts)) {
        report_bad_record(options, corpus, ratings_path, i + 1,
                          "expected userId,movieId,rating,timestamp with numeric rating and time");
        continue;
      }
      RawInteraction r;
      r.user = f[0];
      r.item = f[1];
      r.rating = float(rating);
      r.has_rating = true;
      if (!to_timestamp(ts, r.timestamp)) {
        report_bad_record(options, corpus, ratings_path, i + 1,
                          "timestamp '" + f[3] + "' is not a time in seconds");
        continue;
      }
      corpus.interactions.push_back(std::move(r));
    }
    corpus.files.push_back(ratings_path);
  }
  if (movies_path.empty()) return;
  TextFile file(movies_path);
  const auto& lines = file.lines();
  if (lines.empty()) RECSYS_THROW(ErrorCode::kInvalidArgument, "'", movies_path, "' is empty");
  for (size_t i = 1; i < lines.size(); ++i) {
    if (blank(lines[i])) continue;
    const auto fields = csv_fields(lines[i], movies_path, i + 1, options, corpus);
    if (!fields) continue;
    const auto& f = *fields;
    if (f.size() < 3 || f[0].empty()) {
      report_bad_record(options, corpus, movies_path, i + 1, "expected movieId,title,genres");
      continue;
    }
    ItemRecord item;
    item.external_id = f[0];
    item.title = clean_text(f[1]);
    if (f[2] != "(no genres listed)") {
      size_t s = 0;
      while (s <= f[2].size()) {
        size_t e = f[2].find('|', s);
        if (e == std::string::npos) e = f[2].size();
        if (e > s) item.categories.push_back({f[2].substr(s, e - s)});
        s = e + 1;
      }
    }
    corpus.meta_records += 1;
    std::string key = item.external_id;
    corpus.meta.insert_or_assign(std::move(key), std::move(item));
  }
  corpus.files.push_back(movies_path);
}

}  // namespace recsys::data
