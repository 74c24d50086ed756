// recsys quickstart: the embedded default pipeline on MovieLens ml-latest-small (extracted by the
// setup script into data/movielens). Each step is an ordinary recsys command, printed before it
// runs, so a user can repeat any step by hand.
#include <iostream>

#include "recsys/cli/command.h"
#include "recsys/error.h"
#include "storage/store.h"

namespace recsys::cli {

namespace {

int run_step(const CommandRegistry& registry, const std::vector<std::string>& step) {
  std::cout << "\n$ recsys";
  for (const auto& a : step) std::cout << " " << a;
  std::cout << std::endl;
  const CommandInfo* cmd = registry.find(step[0]);
  RECSYS_CHECK(cmd != nullptr, "quickstart step uses unknown command '", step[0], "'");
  const int rc = cmd->run({step.begin() + 1, step.end()});
  if (rc != 0) RECSYS_THROW(ErrorCode::kInternal, "quickstart step failed with exit code ", rc);
  return rc;
}

}  // namespace

void register_quickstart_command(CommandRegistry& registry) {
  const CommandRegistry* reg = &registry;
  registry.add(
      {"quickstart", "run the whole pipeline on MovieLens (data from the setup script)",
       [reg](const std::vector<std::string>& args) {
         std::string data_dir = "data", work_dir = "runs/quickstart", dataset = "movielens";
         po::options_description desc("recsys quickstart");
         desc.add_options()("data-dir", po::value(&data_dir)->default_value(data_dir),
                            "folder holding the dataset")(
             "dataset", po::value(&dataset)->default_value(dataset), "dataset folder name")(
             "work-dir", po::value(&work_dir)->default_value(work_dir),
             "where the store, models and reports go");
         po::variables_map vm;
         if (!parse_options("usage: recsys quickstart [options]", args, desc, vm)) return 0;
         const std::string store = work_dir + "/store";
         run_step(*reg, {"data", "prepare", "--input", dataset, "--data-dir", data_dir, "--store",
                         store, "--overwrite", "--kcore", "5"});
         run_step(*reg, {"lookup", "--store", store, "--index", "0"});
         auto s = storage::Store::open(store);
         run_step(*reg, {"lookup", "--store", store, "--item", s->get_item(1)->external_id});
         return 0;
       }});
}

}  // namespace recsys::cli
