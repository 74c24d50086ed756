// recsys pipeline FILE: runs the steps of a pipeline INI file.
// recsys quickstart: the embedded default pipeline on MovieLens ml-latest-small (extracted by the
// setup script into data/movielens). It writes its INI next to its outputs, so every step can be
// repeated or changed by hand.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "recsys/cli/command.h"
#include "recsys/cli/pipeline.h"
#include "recsys/error.h"

namespace recsys::cli {

namespace {

// The quickstart profile. @WORK@ and @DATA@ are replaced with --work-dir and --data-dir.
constexpr const char* kQuickstartPipeline =
    R"ini(# recsys quickstart pipeline (MovieLens ml-latest-small)
# A small profile so that the whole run fits in ~15 minutes on 2 CPU cores: residual k-means IDs
# (3 x 32 codes) and a 2+2-layer TIGER of width 64 reading the last 10 items, trained for at most
# 8 minutes. TIGER's published sizes (3 x 256 codes; 4+4 layers of width 128, last 20 items) are
# the defaults of `recsys index --method rkmeans|rqvae` and `recsys train`.
[pipeline]
store = @WORK@/store

[prepare]
input = movielens
data-dir = @DATA@
kcore = 5
overwrite = true

[index]
method = rkmeans
name = rkmeans
levels = 3
codebook-size = 32
text-field = text

[index_report]
name = rkmeans

[lookup.by_item]
item = 1

[lookup.by_prefix]
map = rkmeans
prefix = 0
limit = 5

[train]
model = tiger
map = rkmeans
out = @WORK@/tiger
tiger.max-items = 10
tiger.d-model = 64
tiger.heads = 4
tiger.head-dim = 16
tiger.d-ff = 256
tiger.encoder-layers = 2
tiger.decoder-layers = 2
batch-size = 128
warmup-steps = 200
lr = 0.002
max-minutes = 8
eval-users = 300
patience = 3
no-resume = true
no-test = true

[evaluate]
checkpoint = @WORK@/tiger
report = @WORK@/report

[recommend]
checkpoint = @WORK@/tiger
user = 1
k = 5
)ini";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

}  // namespace

void register_quickstart_command(CommandRegistry& registry) {  // also registers "pipeline"
  const CommandRegistry* reg = &registry;
  registry.add(
      {"pipeline", "run the steps of a pipeline INI file ([prepare], [index], ...)",
       [reg](const std::vector<std::string>& args) {
         std::string file;
         bool dry_run = false;
         po::options_description desc("recsys pipeline");
         desc.add_options()("file", po::value(&file)->required(), "pipeline INI file")(
             "dry-run", po::bool_switch(&dry_run), "print the steps only");
         po::positional_options_description pos;
         pos.add("file", 1);
         po::variables_map vm;
         if (!parse_options("usage: recsys pipeline FILE [--dry-run]", args, desc, vm, &pos))
           return 0;
         std::ifstream in(file);
         RECSYS_CHECK(in.good(), "cannot read pipeline file '", file, "'");
         std::stringstream text;
         text << in.rdbuf();
         const auto steps = parse_pipeline(text.str(), file);
         if (dry_run) {
           for (const auto& s : steps) {
             std::cout << "recsys";
             for (const auto& a : s.argv) std::cout << " " << a;
             std::cout << "\n";
           }
           return 0;
         }
         run_pipeline(*reg, steps);
         return 0;
       }});
  registry.add({"quickstart", "run the whole pipeline on MovieLens (data from the setup script)",
                [reg](const std::vector<std::string>& args) {
                  std::string data_dir = "data", work_dir = "runs/quickstart";
                  po::options_description desc("recsys quickstart");
                  desc.add_options()("data-dir", po::value(&data_dir)->default_value(data_dir),
                                     "folder holding movielens/ (made by scripts/setup.sh)")(
                      "work-dir", po::value(&work_dir)->default_value(work_dir),
                      "where the store, models and reports go");
                  po::variables_map vm;
                  if (!parse_options("usage: recsys quickstart [options]", args, desc, vm))
                    return 0;
                  std::filesystem::create_directories(work_dir);
                  const std::string ini = replace_all(
                      replace_all(kQuickstartPipeline, "@WORK@", work_dir), "@DATA@", data_dir);
                  const std::string ini_path = work_dir + "/quickstart.ini";
                  std::ofstream(ini_path) << ini;
                  std::cout << "quickstart: pipeline written to " << ini_path
                            << " (rerun with: recsys pipeline " << ini_path << ")\n";
                  run_pipeline(*reg, parse_pipeline(ini, ini_path));
                  return 0;
                }});
}

}  // namespace recsys::cli
