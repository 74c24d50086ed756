// recsys data prepare | stats
#include <chrono>
#include <iomanip>
#include <iostream>

#include "datasets/prepare.h"
#include "recsys/cli/command.h"
#include "recsys/logging.h"
#include "storage/store.h"

namespace recsys::cli {

namespace {

void print_stats(const std::string& name, const DatasetStats& s) {
  std::cout << "dataset            " << name << "\n"
            << "users              " << s.num_users << "\n"
            << "items              " << s.num_items << "\n"
            << "interactions       " << s.num_interactions << "\n"
            << "density            " << std::setprecision(4) << s.density() * 100 << "%\n"
            << "avg history        " << std::setprecision(4)
            << (s.num_users ? double(s.num_interactions) / s.num_users : 0.0) << "\n"
            << "items w/o metadata " << s.items_without_metadata << "\n"
            << "skipped records    " << s.skipped_records << "\n"
            << "split (leave-one-out): train " << s.split.train_interactions
            << " interactions, validation " << s.split.valid_users << " users, test "
            << s.split.test_users << " users\n";
}

int run_prepare(const std::vector<std::string>& args) {
  data::PrepareOptions options;
  std::string store_path;
  bool overwrite = false;
  po::options_description desc("recsys data prepare");
  desc.add_options()("store", po::value(&store_path)->required(), "store directory to create")(
      "overwrite", po::bool_switch(&overwrite), "replace an existing store");
  options.add_options(desc);
  po::variables_map vm;
  if (!parse_options("usage: recsys data prepare --input DIR --store DIR [options]\n"
                     "Reads a dataset (Amazon 2014/2018/2023, RecBole, MovieLens) into a store.",
                     args, desc, vm))
    return 0;
  storage::Store::check_writable(store_path, overwrite);  // before the ingest, not after it
  const auto t0 = std::chrono::steady_clock::now();
  Dataset d = data::prepare_dataset(options);
  const auto t1 = std::chrono::steady_clock::now();
  data::PrepareOptions effective = options;
  effective.name = d.name;
  storage::Store::write_dataset(store_path, d, effective.to_json(), overwrite);
  const auto t2 = std::chrono::steady_clock::now();
  RECSYS_LOG(Info) << "read+process " << std::chrono::duration<double>(t1 - t0).count()
                   << " s, store write " << std::chrono::duration<double>(t2 - t1).count() << " s";
  print_stats(d.name, d.stats);
  std::cout << "store              " << store_path << "\n";
  return 0;
}

int run_stats(const std::vector<std::string>& args) {
  std::string store_path;
  po::options_description desc("recsys data stats");
  desc.add_options()("store", po::value(&store_path)->required(), "store directory");
  po::positional_options_description pos;
  pos.add("store", 1);
  po::variables_map vm;
  if (!parse_options("usage: recsys data stats --store DIR", args, desc, vm, &pos)) return 0;
  auto store = storage::Store::open(store_path);
  print_stats(store->dataset_name(), store->stats());
  const auto maps = store->list_id_maps();
  for (const auto& m : maps) {
    std::cout << "id map             " << m.name << " (" << m.method << ", version " << m.version
              << ", length " << m.vocab.size() << ")\n";
  }
  return 0;
}

}  // namespace

void register_data_commands(CommandRegistry& registry) {
  registry.add({"data", "prepare a dataset into a store, print its statistics",
                [](const std::vector<std::string>& args) {
                  return dispatch_subcommand(
                      "data", args,
                      {{"prepare", "read a dataset into a new store", run_prepare},
                       {"stats", "print dataset statistics and split sizes", run_stats}});
                }});
}

}  // namespace recsys::cli
