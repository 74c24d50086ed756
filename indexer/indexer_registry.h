// Name -> factory registry of the indexers, filled explicitly (register_builtin_indexers) at
// start-up; an unknown name throws and lists the valid ones.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "indexer/indexer.h"

namespace recsys::indexer {

class IndexerRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Indexer>(const IndexerOptions&)>;
  // Throws kInvalidArgument if the name is taken.
  void add(const std::string& name, const std::string& summary, Factory factory);
  // Throws kInvalidArgument naming the valid methods if `name` is unknown.
  std::unique_ptr<Indexer> create(const std::string& name, const IndexerOptions& options) const;
  std::vector<std::string> names() const;  // sorted
  std::string summary(const std::string& name) const;

 private:
  struct Entry {
    std::string summary;
    Factory factory;
  };
  std::map<std::string, Entry> entries_;
};

// rqvae, rkmeans, hkmeans, kmeans (flat, one level), random.
void register_builtin_indexers(IndexerRegistry& registry);

}  // namespace recsys::indexer
