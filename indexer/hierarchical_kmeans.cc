#include "indexer/hierarchical_kmeans.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>

#include "indexer/kmeans.h"
#include "recsys/logging.h"

namespace recsys::indexer {

HierarchicalKMeans::HierarchicalKMeans(IndexerOptions options) : options_(std::move(options)) {
  options_.validate();
}

CodeAssignment HierarchicalKMeans::assign(const RowMatrix& features) {
  const Eigen::Index n = features.rows();
  const uint32_t branch = options_.codebook_size;
  CodeAssignment out;
  out.codes.assign(n, SemanticId(options_.levels, 0));
  out.vocab.assign(options_.levels, branch);
  uint64_t clusterings = 0, leaves = 0;
  // Work list of (depth, member rows).
  struct Node {
    uint32_t depth;
    std::vector<Eigen::Index> rows;
  };
  std::vector<Node> stack;
  stack.push_back({0, std::vector<Eigen::Index>(n)});
  std::iota(stack.back().rows.begin(), stack.back().rows.end(), 0);
  while (!stack.empty()) {
    Node node = std::move(stack.back());
    stack.pop_back();
    const auto m = static_cast<Eigen::Index>(node.rows.size());
    RowMatrix x(m, features.cols());
    for (Eigen::Index i = 0; i < m; ++i) x.row(i) = features.row(node.rows[i]);
    if (m <= static_cast<Eigen::Index>(branch)) {
      // Small group: distinct codes by distance to the group mean, nothing below.
      const Eigen::RowVectorXf mean = x.colwise().mean();
      std::vector<Eigen::Index> order(m);
      std::iota(order.begin(), order.end(), 0);
      std::vector<float> d(m);
      for (Eigen::Index i = 0; i < m; ++i) d[i] = (x.row(i) - mean).squaredNorm();
      std::stable_sort(order.begin(), order.end(),
                       [&](Eigen::Index a, Eigen::Index b) { return d[a] < d[b]; });
      for (Eigen::Index r = 0; r < m; ++r)
        out.codes[node.rows[order[r]]][node.depth] = static_cast<Token>(r);
      ++leaves;
      continue;
    }
    KMeansOptions ko;
    ko.k = branch;
    ko.max_iterations = options_.kmeans_iterations;
    ko.restarts = options_.kmeans_restarts;
    ko.seed = options_.seed + 7919ULL * clusterings;
    KMeans km(ko);
    km.fit(x);
    ++clusterings;
    std::vector<std::vector<Eigen::Index>> children(branch);
    for (Eigen::Index i = 0; i < m; ++i) {
      out.codes[node.rows[i]][node.depth] = static_cast<Token>(km.labels()[i]);
      children[km.labels()[i]].push_back(node.rows[i]);
    }
    if (node.depth + 1 < options_.levels)
      for (auto& c : children)
        if (c.size() > 1) stack.push_back({node.depth + 1, std::move(c)});
  }
  RECSYS_LOG(Info) << "hkmeans: " << clusterings << " k-means runs, " << leaves
                   << " small groups numbered directly";
  out.config_json = nlohmann::json{
      {"levels", options_.levels},
      {"branch_factor", branch},
      {"kmeans_iterations", options_.kmeans_iterations},
      {"kmeans_restarts", options_.kmeans_restarts},
      {"seed",
       options_.seed}}.dump();
  out.training_json = nlohmann::json{{"kmeans_runs", clusterings}, {"small_groups", leaves}}.dump();
  return out;
}

}  // namespace recsys::indexer
