#include "sequential_rec/evaluator.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "recsys/error.h"
#include "recsys/progress.h"
#include "recsys/strings.h"
#include "sequential_rec/metrics.h"

namespace recsys::seqrec {

const char* split_name(Split split) { return split == Split::kValidation ? "validation" : "test"; }

void split_queries(const Dataset& dataset, Split split, int64_t max_users,
                   std::vector<Query>* queries, std::vector<ItemIndex>* targets) {
  queries->clear();
  targets->clear();
  const size_t back = split == Split::kTest ? 1 : 2;  // target = items[n - back]
  std::vector<UserIndex> users;
  for (UserIndex u = 0; u < dataset.users.size(); ++u) {
    if (dataset.users[u].items.size() >= back + 1) users.push_back(u);
  }
  if (max_users > 0 && static_cast<size_t>(max_users) < users.size()) {
    std::vector<UserIndex> kept;
    const double stride = static_cast<double>(users.size()) / static_cast<double>(max_users);
    for (int64_t i = 0; i < max_users; ++i) kept.push_back(users[static_cast<size_t>(i * stride)]);
    users.swap(kept);
  }
  for (UserIndex u : users) {
    const auto& items = dataset.users[u].items;
    const size_t t = items.size() - back;
    queries->push_back({u, std::vector<ItemIndex>(items.begin(), items.begin() + t)});
    targets->push_back(items[t]);
  }
}

EvalResult evaluate(Recommender& model, const Dataset& dataset, Split split,
                    const EvalConfig& config) {
  config.validate();
  std::vector<Query> queries;
  std::vector<ItemIndex> targets;
  split_queries(dataset, split, config.max_users, &queries, &targets);
  RECSYS_CHECK(!queries.empty(), "no user has a ", split_name(split), " target");
  size_t max_k = 0;
  for (size_t k : config.ks) max_k = std::max(max_k, k);
  RecommendOptions options;
  options.top_k = max_k;
  options.beam_size = std::max<int64_t>(config.beam_size, 1);
  options.exclude_history = config.exclude_history;
  options.precision = config.precision;

  MetricAccumulator acc(config.ks);
  std::vector<UserRank> ranks;
  ranks.reserve(queries.size());
  Progress progress(std::string("evaluate ") + split_name(split), queries.size(), "users", 10.0);
  const auto start = std::chrono::steady_clock::now();
  // Chunks keep memory bounded and give progress; the model batches within a chunk.
  const size_t chunk = static_cast<size_t>(config.batch_users) * 8;
  for (size_t lo = 0; lo < queries.size(); lo += chunk) {
    const size_t hi = std::min(queries.size(), lo + chunk);
    std::vector<Query> batch(queries.begin() + lo, queries.begin() + hi);
    auto recs = model.recommend(batch, options);
    for (size_t i = 0; i < recs.size(); ++i) {
      std::vector<ItemIndex> ranked;
      for (const auto& r : recs[i]) ranked.push_back(r.item);
      const auto rank = rank_of(ranked, targets[lo + i]);
      acc.add(rank);
      ranks.push_back({queries[lo + i].user, targets[lo + i],
                       rank ? static_cast<int32_t>(*rank) : int32_t{-1}});
    }
    progress.add(hi - lo);
  }
  progress.finish();
  EvalResult result;
  result.split = split_name(split);
  result.users = acc.count();
  result.metrics = acc.means();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.users_per_second = result.seconds > 0 ? result.users / result.seconds : 0;
  result.exclude_history = config.exclude_history;
  result.beam_size = model.name().find("tiger") != std::string::npos
                         ? std::max(config.beam_size, static_cast<int64_t>(max_k))
                         : 0;
  result.precision = config.precision;
  result.ranks = std::move(ranks);
  return result;
}

std::vector<std::string> metric_order(const std::map<std::string, double>& metrics) {
  // (cut-off, recall first, name); names without a numeric cut-off sort last.
  std::vector<std::tuple<int64_t, int, std::string>> keys;
  for (const auto& [name, value] : metrics) {
    const size_t at = name.find('@');
    int64_t k = std::numeric_limits<int64_t>::max();
    if (at != std::string::npos) {
      const char* first = name.data() + at + 1;
      const char* last = name.data() + name.size();
      int64_t parsed = 0;
      const auto [end, ec] = std::from_chars(first, last, parsed);
      if (ec == std::errc() && end == last) k = parsed;
    }
    keys.emplace_back(k, name.rfind("recall@", 0) == 0 ? 0 : 1, name);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> out;
  for (const auto& key : keys) out.push_back(std::get<2>(key));
  return out;
}

namespace {
// `v` rounded to `digits` decimals, so that the JSON shows 0.047 rather than 0.047000000000000003.
double rounded(double v, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(v * scale) / scale;
}
}  // namespace

std::string EvalReport::to_json() const {
  nlohmann::ordered_json j = {{"title", title},
                              {"dataset", dataset},
                              {"model", model},
                              {"id_map", id_map},
                              {"config", config},
                              {"notes", notes},
                              {"results", nlohmann::ordered_json::array()}};
  for (const auto& r : results) {
    nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
    for (const auto& [k, v] : r.metrics) metrics[k] = rounded(v, 6);
    j["results"].push_back({{"split", r.split},
                            {"users", r.users},
                            {"seconds", rounded(r.seconds, 2)},
                            {"users_per_second", rounded(r.users_per_second, 1)},
                            {"exclude_history", r.exclude_history},
                            {"beam_size", r.beam_size},
                            {"precision", r.precision},
                            {"metrics", std::move(metrics)}});
    if (!r.checkpoint.empty()) j["results"].back()["checkpoint"] = r.checkpoint;
  }
  // Replace, not throw, on invalid UTF-8 (a store or checkpoint path is arbitrary bytes).
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string EvalReport::to_markdown() const {
  std::ostringstream os;
  os << "# " << title << "\n\n";
  os << "- dataset: " << dataset << "\n- model: " << model << "\n";
  if (!id_map.empty()) os << "- ID map: " << id_map << "\n";
  for (const auto& [k, v] : notes) os << "- " << k << ": " << v << "\n";
  // A report over several checkpoints (e.g. one per seed) names each row's checkpoint.
  const bool named = std::any_of(results.begin(), results.end(),
                                 [](const EvalResult& r) { return !r.checkpoint.empty(); });
  // One column per metric any result has ("recall@10" -> "R@10"), by cut-off.
  std::map<std::string, double> all;
  for (const auto& r : results) all.insert(r.metrics.begin(), r.metrics.end());
  const std::vector<std::string> columns = metric_order(all);
  os << "\n|" << (named ? " checkpoint |" : "")
     << " split | users | history excluded | precision |";
  for (const auto& c : columns) {
    const bool short_name = c.rfind("recall@", 0) == 0 || c.rfind("ndcg@", 0) == 0;
    os << " " << (short_name ? std::string(c[0] == 'r' ? "R" : "N") + c.substr(c.find('@')) : c)
       << " |";
  }
  os << " seconds |\n" << (named ? "|---" : "") << "|---|---|---|---|";
  for (size_t i = 0; i < columns.size(); ++i) os << "---|";
  os << "---|\n";
  for (const auto& r : results) {
    os << "| ";
    if (named) os << r.checkpoint << " | ";
    os << r.split << " | " << r.users << " | " << (r.exclude_history ? "yes" : "no") << " | "
       << r.precision << " |";
    for (const auto& c : columns) {
      auto it = r.metrics.find(c);
      os << " " << (it == r.metrics.end() ? std::string("-") : format_fixed(it->second, 4)) << " |";
    }
    os << " " << format_fixed(r.seconds, 1) << " |\n";
  }
  os << "\n<details><summary>config</summary>\n\n```\n"
     << write_config_lines(config) << "```\n</details>\n";
  return os.str();
}

void EvalReport::write(const std::string& prefix) const {
  for (const auto& [ext, text] : std::vector<std::pair<std::string, std::string>>{
           {".json", to_json()}, {".md", to_markdown()}}) {
    std::ofstream out(prefix + ext, std::ios::trunc);
    if (!out) RECSYS_THROW(ErrorCode::kIOError, "cannot write '", prefix + ext, "'");
    out << text;
  }
}

}  // namespace recsys::seqrec
