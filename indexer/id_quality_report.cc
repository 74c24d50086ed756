#include "indexer/id_quality_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <unordered_map>

#include "indexer/cluster_metrics.h"
#include "indexer/text_words.h"
#include "recsys/error.h"

namespace recsys::indexer {
namespace {

std::vector<std::pair<std::string, uint64_t>> top_counts(
    const std::unordered_map<std::string, uint64_t>& counts, size_t n) {
  std::vector<std::pair<std::string, uint64_t>> v(counts.begin(), counts.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (v.size() > n) v.resize(n);
  return v;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

}  // namespace

std::string second_level_category(const ItemRecord& item) {
  if (item.categories.empty() || item.categories[0].size() < 2) return "";
  return item.categories[0][1];
}

std::string leaf_category_path(const ItemRecord& item) {
  if (item.categories.empty() || item.categories[0].empty()) return "";
  std::string out;
  for (const auto& c : item.categories[0]) out += (out.empty() ? "" : " > ") + c;
  return out;
}

std::vector<SequenceCoherence> sequence_coherence(const IdMap& map,
                                                  const std::vector<UserRecord>& users,
                                                  uint32_t holdout) {
  const uint32_t levels = map.length() > 1 ? static_cast<uint32_t>(map.length() - 1) : 0;
  std::vector<SequenceCoherence> out;
  for (uint32_t len = 1; len <= levels; ++len) {
    const auto prefix = [&](ItemIndex i) {
      RECSYS_CHECK(i < map.num_items(), "sequence coherence: item ", i, " is not in ID map '",
                   map.name, "' (", map.num_items(), " items)");
      return SemanticId(map.ids[i].begin(), map.ids[i].begin() + len);
    };
    SequenceCoherence c;
    c.length = len;
    std::map<SemanticId, uint64_t> interactions;
    uint64_t total = 0, shared = 0, follows = 0, in_history = 0;
    for (const auto& u : users) {
      const size_t train = u.items.size() > holdout ? u.items.size() - holdout : 0;
      std::set<SemanticId> history;
      for (size_t p = 0; p < train; ++p) {
        SemanticId here = prefix(u.items[p]);
        ++interactions[here];
        ++total;
        if (p + 1 < train) {
          ++c.transitions;
          shared += here == prefix(u.items[p + 1]);
        }
        history.insert(std::move(here));
      }
      if (holdout >= 2 && train > 0) {  // the validation target follows the training part
        ++c.targets;
        const SemanticId target = prefix(u.items[train]);
        follows += target == prefix(u.items[train - 1]);
        in_history += history.count(target) > 0;
      }
    }
    c.next_shares = c.transitions ? double(shared) / c.transitions : 0;
    c.target_follows = c.targets ? double(follows) / c.targets : 0;
    c.target_in_history = c.targets ? double(in_history) / c.targets : 0;
    for (const auto& [k, n] : interactions)
      c.by_chance += (double(n) / total) * (double(n) / total);
    out.push_back(c);
  }
  return out;
}

IdQualityReport make_id_quality_report(const IdMap& map, const std::vector<ItemRecord>& items,
                                       const std::vector<UserRecord>& users,
                                       const IdQualityOptions& options) {
  RECSYS_CHECK(map.length() >= 1, "ID map '", map.name, "' has no positions");
  RECSYS_CHECK(items.size() == map.num_items(), "ID map '", map.name, "' has ", map.num_items(),
               " items, the dataset ", items.size());
  IdQualityReport r;
  r.name = map.name;
  r.method = map.method;
  r.num_items = map.num_items();
  r.code_levels = static_cast<uint32_t>(map.length() - 1);
  std::vector<SemanticId> codes(map.num_items());
  for (size_t i = 0; i < codes.size(); ++i) {
    RECSYS_CHECK(map.ids[i].size() == map.length(), "ID map '", map.name, "': item ", i, " has ",
                 map.ids[i].size(), " tokens");
    codes[i].assign(map.ids[i].begin(), map.ids[i].end() - 1);
  }
  r.collisions = collision_stats(codes);
  r.ids_unique = std::set<SemanticId>(map.ids.begin(), map.ids.end()).size() == map.num_items();

  for (uint32_t p = 0; p < map.length(); ++p) {
    std::vector<uint64_t> counts(map.vocab[p], 0);
    for (const auto& id : map.ids)
      if (id[p] < counts.size()) ++counts[id[p]];
    LevelUsage u;
    u.position = p;
    u.vocab = map.vocab[p];
    u.used = static_cast<uint32_t>(
        std::count_if(counts.begin(), counts.end(), [](uint64_t c) { return c > 0; }));
    u.usage = u.vocab ? double(u.used) / u.vocab : 0;
    u.perplexity = std::exp(entropy_of_counts(counts));
    r.levels.push_back(u);
  }

  for (uint32_t len = 1; len <= r.code_levels; ++len) {
    std::map<SemanticId, uint64_t> groups;
    for (const auto& c : codes) ++groups[SemanticId(c.begin(), c.begin() + len)];
    std::vector<uint64_t> sizes;
    for (const auto& [k, n] : groups) sizes.push_back(n);
    std::sort(sizes.begin(), sizes.end());
    PrefixStats s;
    s.length = len;
    s.prefixes = sizes.size();
    s.mean_items = sizes.empty() ? 0 : double(r.num_items) / sizes.size();
    s.median_items = sizes.empty() ? 0 : sizes[sizes.size() / 2];
    s.max_items = sizes.empty() ? 0 : sizes.back();
    r.prefixes.push_back(s);
  }

  // First code against the categories; items without that category are left out.
  if (r.code_levels >= 1) {
    for (const char* kind : {"second_level", "leaf_path"}) {
      std::vector<std::string> labels;
      std::vector<uint64_t> first;
      for (size_t i = 0; i < items.size(); ++i) {
        std::string l = std::string(kind) == "second_level" ? second_level_category(items[i])
                                                            : leaf_category_path(items[i]);
        if (l.empty()) continue;
        labels.push_back(std::move(l));
        first.push_back(codes[i][0]);
      }
      CategoryAgreement a;
      a.labels = kind;
      a.items_labelled = labels.size();
      if (!labels.empty()) {
        const ClusterAgreement c = cluster_agreement(encode_labels(labels), first);
        a.num_labels = c.num_true;
        a.ami = c.ami;
        a.nmi = c.nmi;
      }
      r.first_code_vs_categories.push_back(a);
    }

    // The most populated first-level codes, described by title words and categories.
    std::map<Token, std::vector<size_t>> members;
    for (size_t i = 0; i < codes.size(); ++i) members[codes[i][0]].push_back(i);
    std::vector<std::pair<Token, size_t>> by_size;
    for (const auto& [code, m] : members) by_size.emplace_back(code, m.size());
    std::stable_sort(by_size.begin(), by_size.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (size_t e = 0; e < by_size.size() && e < options.example_codes; ++e) {
      CodeExample ex;
      ex.code = by_size[e].first;
      ex.items = by_size[e].second;
      std::unordered_map<std::string, uint64_t> words, cats;
      for (size_t i : members[ex.code]) {
        std::set<std::string> seen;
        for (auto& w : split_words(items[i].title))
          if (!is_stop_word(w) && seen.insert(w).second) ++words[w];
        const std::string c = second_level_category(items[i]);
        if (!c.empty()) ++cats[c];
      }
      ex.title_words = top_counts(words, options.top_words);
      ex.categories = top_counts(cats, options.top_words);
      r.examples.push_back(std::move(ex));
    }
  }
  if (!users.empty()) r.coherence = sequence_coherence(map, users, options.holdout);
  return r;
}

std::vector<std::string> IdQualityReport::warnings() const {
  // Above this share of items, the suffix (an arbitrary order within a group) carries most of the
  // identity, and a generative model can only guess it.
  constexpr double kMaxCollisionRate = 0.5;
  // Below this share of the codes a position could use (at most one per item), the position has
  // collapsed onto a few codes.
  constexpr double kMinFirstLevelUsage = 0.5;
  std::vector<std::string> out;
  if (code_levels > 0 && collisions.collision_rate() > kMaxCollisionRate) {
    out.push_back(fixed(100 * collisions.collision_rate(), 1) +
                  "% of items share all their codes with other items and are told apart only by "
                  "the collision suffix (largest group " +
                  std::to_string(collisions.largest_group) +
                  "): a generative recommender has to guess among them");
  }
  if (!levels.empty() && levels[0].position < code_levels) {
    const LevelUsage& first = levels[0];
    const uint64_t usable = std::min<uint64_t>(first.vocab, num_items);
    if (usable > 1 && static_cast<double>(first.used) < kMinFirstLevelUsage * usable) {
      out.push_back("position 1 uses " + std::to_string(first.used) + " of its " +
                    std::to_string(first.vocab) + " codes (perplexity " +
                    fixed(first.perplexity, 1) + "): the first code separates few groups");
    }
  }
  return out;
}

std::string IdQualityReport::to_json(int indent) const {
  nlohmann::json j;
  j["name"] = name;
  j["method"] = method;
  j["num_items"] = num_items;
  j["code_levels"] = code_levels;
  j["ids_unique"] = ids_unique;
  j["collisions"] = {{"distinct_codes", collisions.distinct_codes},
                     {"items_colliding", collisions.items_colliding},
                     {"collision_rate", collisions.collision_rate()},
                     {"largest_group", collisions.largest_group},
                     {"suffix_vocab", collisions.suffix_vocab}};
  for (const auto& l : levels)
    j["levels"].push_back({{"position", l.position},
                           {"is_suffix", l.position == code_levels},
                           {"vocab", l.vocab},
                           {"used", l.used},
                           {"usage", l.usage},
                           {"perplexity", l.perplexity}});
  for (const auto& p : prefixes)
    j["prefixes"].push_back({{"length", p.length},
                             {"prefixes", p.prefixes},
                             {"mean_items", p.mean_items},
                             {"median_items", p.median_items},
                             {"max_items", p.max_items}});
  for (const auto& a : first_code_vs_categories)
    j["first_code_vs_categories"].push_back({{"labels", a.labels},
                                             {"num_labels", a.num_labels},
                                             {"items_labelled", a.items_labelled},
                                             {"ami", a.ami},
                                             {"nmi", a.nmi}});
  for (const auto& e : examples) {
    nlohmann::json x{{"code", e.code}, {"items", e.items}};
    for (const auto& [w, n] : e.title_words) x["title_words"].push_back({w, n});
    for (const auto& [c, n] : e.categories) x["categories"].push_back({c, n});
    j["examples"].push_back(std::move(x));
  }
  for (const auto& c : coherence)
    j["sequence_coherence"].push_back({{"length", c.length},
                                       {"transitions", c.transitions},
                                       {"next_shares", c.next_shares},
                                       {"by_chance", c.by_chance},
                                       {"lift", c.lift()},
                                       {"targets", c.targets},
                                       {"target_follows", c.target_follows},
                                       {"target_in_history", c.target_in_history}});
  j["warnings"] = warnings();
  return j.dump(indent);
}

std::string IdQualityReport::to_table() const {
  std::ostringstream os;
  os << "ID map '" << name << "' (" << method << "): " << num_items << " items, " << code_levels
     << " code levels + suffix, IDs " << (ids_unique ? "unique" : "NOT UNIQUE") << "\n";
  os << "collisions before suffix: " << collisions.items_colliding << " items ("
     << fixed(100 * collisions.collision_rate(), 2) << "%) share their codes; "
     << collisions.distinct_codes << " distinct tuples; largest group " << collisions.largest_group
     << "; suffix vocab " << collisions.suffix_vocab << "\n\n";
  os << "position  vocab   used   usage  perplexity\n";
  for (const auto& l : levels) {
    char buf[128];
    std::snprintf(buf, sizeof(buf), "%-8s %6u %6u %6.1f%% %11.1f\n",
                  l.position == code_levels ? "suffix" : std::to_string(l.position + 1).c_str(),
                  l.vocab, l.used, 100 * l.usage, l.perplexity);
    os << buf;
  }
  os << "\nprefix  prefixes  mean items  median  max\n";
  for (const auto& p : prefixes) {
    char buf[128];
    std::snprintf(buf, sizeof(buf), "%-6u %9llu %11.2f %7llu %5llu\n", p.length,
                  static_cast<unsigned long long>(p.prefixes), p.mean_items,
                  static_cast<unsigned long long>(p.median_items),
                  static_cast<unsigned long long>(p.max_items));
    os << buf;
  }
  os << "\nfirst code vs categories   labels  items      AMI     NMI\n";
  for (const auto& a : first_code_vs_categories) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "%-26s %6u %6llu %8.3f %7.3f\n", a.labels.c_str(), a.num_labels,
                  static_cast<unsigned long long>(a.items_labelled), a.ami, a.nmi);
    os << buf;
  }
  if (!examples.empty()) os << "\nlargest first-level codes:\n";
  for (const auto& e : examples) {
    os << "  code " << e.code << " (" << e.items << " items): words";
    for (const auto& [w, n] : e.title_words) os << " " << w << "(" << n << ")";
    os << "; categories";
    for (const auto& [c, n] : e.categories) os << " " << c << "(" << n << ")";
    os << "\n";
  }
  if (!coherence.empty())
    os << "\nsequence coherence   next item shares  by chance    lift  valid target shares: last "
          "item  any history item\n";
  for (const auto& c : coherence) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "prefix %-13u %15.2f%% %9.2f%% %7.1f %24.2f%% %15.2f%%\n",
                  c.length, 100 * c.next_shares, 100 * c.by_chance, c.lift(),
                  100 * c.target_follows, 100 * c.target_in_history);
    os << buf;
  }
  const auto warn = warnings();
  if (!warn.empty()) os << "\n";
  for (const auto& w : warn) os << "warning: " << w << "\n";
  return os.str();
}

}  // namespace recsys::indexer
