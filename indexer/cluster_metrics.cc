#include "indexer/cluster_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

#include "recsys/error.h"

namespace recsys::indexer {
namespace {

struct Table {
  std::vector<uint64_t> a;  // row sums (true labels)
  std::vector<uint64_t> b;  // column sums (predicted labels)
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> cells;
  uint64_t n = 0;
};

Table contingency(const std::vector<uint64_t>& t, const std::vector<uint64_t>& p) {
  RECSYS_CHECK(t.size() == p.size(), "cluster metrics: ", t.size(), " true labels vs ", p.size(),
               " predicted labels");
  std::unordered_map<uint64_t, uint32_t> ti, pi;
  Table tab;
  tab.n = t.size();
  for (size_t i = 0; i < t.size(); ++i) {
    auto [it, new_t] = ti.emplace(t[i], static_cast<uint32_t>(ti.size()));
    if (new_t) tab.a.push_back(0);
    auto [jt, new_p] = pi.emplace(p[i], static_cast<uint32_t>(pi.size()));
    if (new_p) tab.b.push_back(0);
    ++tab.a[it->second];
    ++tab.b[jt->second];
    ++tab.cells[{it->second, jt->second}];
  }
  return tab;
}

// E[MI] under the hypergeometric model of random labelings with fixed marginals (Vinh et al.
// 2010), computed in log space as scikit-learn's expected_mutual_information.
double expected_mi(const Table& tab) {
  const double n = static_cast<double>(tab.n);
  const double log_n = std::log(n);
  const double gln_n1 = std::lgamma(n + 1);
  double emi = 0;
  for (uint64_t ai : tab.a) {
    const double a = static_cast<double>(ai);
    const double gln_a = std::lgamma(a + 1) + std::lgamma(n - a + 1);
    for (uint64_t bj : tab.b) {
      const double b = static_cast<double>(bj);
      const double gln_ab = gln_a + std::lgamma(b + 1) + std::lgamma(n - b + 1) - gln_n1;
      const uint64_t start =
          std::max<int64_t>(1, static_cast<int64_t>(ai + bj) - static_cast<int64_t>(tab.n));
      const uint64_t end = std::min(ai, bj);
      for (uint64_t k = start; k <= end; ++k) {
        const double nij = static_cast<double>(k);
        const double term2 = log_n + std::log(nij) - std::log(a) - std::log(b);
        const double gln = gln_ab - std::lgamma(nij + 1) - std::lgamma(a - nij + 1) -
                           std::lgamma(b - nij + 1) - std::lgamma(n - a - b + nij + 1);
        emi += nij / n * term2 * std::exp(gln);
      }
    }
  }
  return emi;
}

}  // namespace

double entropy_of_counts(const std::vector<uint64_t>& counts) {
  double total = 0;
  for (uint64_t c : counts) total += static_cast<double>(c);
  if (total <= 0) return 0;
  double h = 0;
  for (uint64_t c : counts)
    if (c > 0) {
      const double p = static_cast<double>(c) / total;
      h -= p * std::log(p);
    }
  return h;
}

std::vector<uint64_t> encode_labels(const std::vector<std::string>& labels) {
  std::unordered_map<std::string, uint64_t> ids;
  std::vector<uint64_t> out(labels.size());
  for (size_t i = 0; i < labels.size(); ++i)
    out[i] = ids.emplace(labels[i], ids.size()).first->second;
  return out;
}

ClusterAgreement cluster_agreement(const std::vector<uint64_t>& labels_true,
                                   const std::vector<uint64_t>& labels_pred) {
  const Table tab = contingency(labels_true, labels_pred);
  ClusterAgreement r;
  r.num_true = static_cast<uint32_t>(tab.a.size());
  r.num_pred = static_cast<uint32_t>(tab.b.size());
  // scikit-learn's special cases: both labelings trivial (one cluster or none) agree perfectly.
  if ((r.num_true == 1 && r.num_pred == 1) || tab.n == 0) {
    r.nmi = r.ami = 1.0;
    return r;
  }
  const double n = static_cast<double>(tab.n);
  double mi = 0;
  for (const auto& [ij, nij] : tab.cells) {
    const double c = static_cast<double>(nij);
    mi += c / n *
          (std::log(c) + std::log(n) - std::log(double(tab.a[ij.first])) -
           std::log(double(tab.b[ij.second])));
  }
  mi = std::max(0.0, mi);
  r.mutual_information = mi;
  r.entropy_true = entropy_of_counts(tab.a);
  r.entropy_pred = entropy_of_counts(tab.b);
  const double mean_h = 0.5 * (r.entropy_true + r.entropy_pred);
  r.nmi = mi > 0 && mean_h > 0 ? mi / mean_h : 0.0;
  r.expected_mutual_information = expected_mi(tab);
  double denominator = mean_h - r.expected_mutual_information;
  const double eps = std::numeric_limits<double>::epsilon();
  denominator = denominator < 0 ? std::min(denominator, -eps) : std::max(denominator, eps);
  r.ami = (mi - r.expected_mutual_information) / denominator;
  return r;
}

double adjusted_mutual_information(const std::vector<uint64_t>& labels_true,
                                   const std::vector<uint64_t>& labels_pred) {
  return cluster_agreement(labels_true, labels_pred).ami;
}

double normalized_mutual_information(const std::vector<uint64_t>& labels_true,
                                     const std::vector<uint64_t>& labels_pred) {
  return cluster_agreement(labels_true, labels_pred).nmi;
}

}  // namespace recsys::indexer
