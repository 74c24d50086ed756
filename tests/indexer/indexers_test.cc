#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <limits>
#include <random>
#include <set>

#include "indexer/cluster_metrics.h"
#include "indexer/indexer_registry.h"
#include "indexer/npy_embeddings.h"
#include "recsys/error.h"

namespace recsys::indexer {
namespace {

struct Planted {
  RowMatrix x;
  std::vector<uint64_t> truth;
  std::vector<ItemRecord> items;
};

Planted planted(int clusters, int per, int dim, uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  RowMatrix c(clusters, dim);
  for (int i = 0; i < c.size(); ++i) c.data()[i] = 8 * g(rng);
  Planted p;
  p.x.resize(clusters * per, dim);
  for (int i = 0; i < p.x.rows(); ++i) {
    const int k = i % clusters;
    p.truth.push_back(k);
    for (int d = 0; d < dim; ++d) p.x(i, d) = c(k, d) + g(rng);
    ItemRecord r;
    r.external_id = "item" + std::to_string(i);
    r.title = "title " + std::to_string(k);
    r.categories = {{"Root", "Cat" + std::to_string(k), "Leaf" + std::to_string(k)}};
    p.items.push_back(r);
  }
  return p;
}

IndexerRegistry registry() {
  IndexerRegistry r;
  register_builtin_indexers(r);
  return r;
}

TEST(IndexerRegistryTest, UnknownMethodThrowsListingValidNames) {
  try {
    registry().create("pq", IndexerOptions{});
    FAIL() << "no throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const char* m : {"hkmeans", "kmeans", "random", "rkmeans", "rqvae"})
      EXPECT_NE(msg.find(m), std::string::npos) << m;
  }
}

// A seed fixes the map: two builds with one seed give the same IDs (and a different seed other
// IDs), for each of the CPU indexers (the RQ-VAE's are in rq_vae_test.cc).
TEST(IndexerTest, SameSeedSameMap) {
  const Planted p = planted(6, 30, 8);
  for (const char* method : {"hkmeans", "kmeans", "random", "rkmeans"}) {
    SCOPED_TRACE(method);
    IndexerOptions o;
    o.levels = 2;
    o.codebook_size = 4;
    o.seed = 7;
    auto build = [&](const IndexerOptions& options) {
      auto ix = registry().create(method, options);
      return build_id_map(*ix, p.x, p.items, {}, "m").ids;
    };
    const auto first = build(o);
    EXPECT_EQ(build(o), first);
    o.seed = 8;
    if (std::string(method) == "random") EXPECT_NE(build(o), first);
  }
}

TEST(ResidualKMeansTest, IdsUniqueAfterSuffixAndFirstCodeFindsPlantedClusters) {
  const Planted p = planted(8, 50, 12);
  IndexerOptions o;
  o.levels = 2;
  o.codebook_size = 8;
  auto ix = registry().create("rkmeans", o);
  IdQualityReport rep;
  const IdMap map = build_id_map(*ix, p.x, p.items, {}, "rk", "{}", &rep);
  EXPECT_NO_THROW(map.validate());
  EXPECT_EQ(map.vocab.size(), 3u);
  EXPECT_TRUE(rep.ids_unique);
  EXPECT_EQ(std::set<SemanticId>(map.ids.begin(), map.ids.end()).size(), p.items.size());
  std::vector<uint64_t> first;
  for (const auto& id : map.ids) first.push_back(id[0]);
  EXPECT_GT(adjusted_mutual_information(p.truth, first), 0.99);
  EXPECT_GT(rep.first_code_vs_categories[0].ami, 0.99);
  EXPECT_FALSE(map.config_json.empty());
  EXPECT_FALSE(map.report_json.empty());
}

TEST(ResidualKMeansTest, FlatKMeansHasOneLevel) {
  const Planted p = planted(4, 20, 6);
  IndexerOptions o;
  o.codebook_size = 4;
  auto ix = registry().create("kmeans", o);
  const IdMap map = build_id_map(*ix, p.x, p.items, {}, "flat");
  EXPECT_EQ(map.vocab.size(), 2u);
  EXPECT_EQ(map.vocab[0], 4u);
  EXPECT_EQ(map.vocab[1], 20u);  // each planted cluster shares one code
}

// Features with NaN or infinity are refused before any indexer sees them (hkmeans on fewer
// items than its codebook never runs k-means, and would sort NaN distances).
TEST(BuildIdMapTest, RefusesNonFiniteFeatures) {
  Planted p = planted(2, 3, 4);
  p.x(1, 2) = std::numeric_limits<float>::quiet_NaN();
  IndexerOptions o;
  o.codebook_size = 8;
  for (const char* method : {"hkmeans", "random"}) {
    SCOPED_TRACE(method);
    auto ix = registry().create(method, o);
    try {
      build_id_map(*ix, p.x, p.items, {}, "bad");
      FAIL() << "built a map from NaN features";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("NaN or infinite"), std::string::npos) << e.what();
    }
  }
}

TEST(RandomIndexerTest, RandomCodesCarryNoCategoryInformation) {
  const Planted p = planted(6, 200, 4);
  IndexerOptions o;
  o.levels = 3;
  o.codebook_size = 16;
  auto ix = registry().create("random", o);
  IdQualityReport rep;
  const IdMap map = build_id_map(*ix, p.x, p.items, {}, "rnd", "{}", &rep);
  EXPECT_NO_THROW(map.validate());
  EXPECT_NEAR(rep.first_code_vs_categories[0].ami, 0.0, 0.01);
  EXPECT_GT(rep.levels[0].usage, 0.99);
}

TEST(HierarchicalKMeansTest, CodesWithinBranchFactorAndUnique) {
  const Planted p = planted(5, 40, 6);
  IndexerOptions o;
  o.levels = 3;
  o.codebook_size = 5;
  auto ix = registry().create("hkmeans", o);
  IdQualityReport rep;
  const IdMap map = build_id_map(*ix, p.x, p.items, {}, "hk", "{}", &rep);
  EXPECT_NO_THROW(map.validate());
  EXPECT_GT(rep.first_code_vs_categories[0].ami, 0.99);
  // 200 items in a 5 x 5 x 5 tree: the recursion must spread them, few collide.
  EXPECT_LT(rep.collisions.largest_group, 10u);
}

TEST(NpyEmbeddingsTest, RoundTripAndReorderByKeys) {
  RowMatrix x(3, 2);
  x << 1, 2, 3, 4, 5, 6;
  const std::string npy = ::testing::TempDir() + "/emb.npy";
  const std::string keys = ::testing::TempDir() + "/emb.keys";
  save_npy_matrix(npy, x);
  EXPECT_TRUE(load_npy_matrix(npy).isApprox(x));
  std::ofstream(keys) << "c\na\nb\n";
  std::vector<ItemRecord> items(2);
  items[0].external_id = "a";
  items[1].external_id = "c";
  const RowMatrix y = load_item_embeddings(npy, keys, items);
  EXPECT_EQ(y(0, 0), 3);
  EXPECT_EQ(y(1, 1), 2);
  items[1].external_id = "missing";
  EXPECT_THROW(load_item_embeddings(npy, keys, items), Error);
  std::ofstream(npy, std::ios::binary) << "not numpy";
  EXPECT_THROW(load_npy_matrix(npy), Error);
  // A shape the file cannot hold (or beyond 64 bits) is refused before allocating.
  for (const char* shape : {"(4611686018427387904, 4)", "(99999999999999999999999, 2)"}) {
    SCOPED_TRACE(shape);
    std::string header =
        std::string("{'descr': '<f4', 'fortran_order': False, 'shape': ") + shape + ", }";
    header.append(118 - header.size(), ' ');
    header.push_back('\n');
    std::ofstream out(npy, std::ios::binary);
    out.write("\x93NUMPY\x01\x00", 8);
    const unsigned char len[2] = {uint8_t(header.size()), 0};
    out.write(reinterpret_cast<const char*>(len), 2);
    out << header << "0123456789abcdef";
    out.close();
    try {
      load_npy_matrix(npy);
      FAIL() << "read a shape the file cannot hold";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    }
  }
  std::remove(npy.c_str());
  std::remove(keys.c_str());
}

}  // namespace
}  // namespace recsys::indexer
