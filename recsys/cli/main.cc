// Entry point of the `recsys` command line. The one place that maps errors to exit codes.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "recsys/cli/command.h"
#include "recsys/cli/ml_module.h"
#include "recsys/error.h"

int main(int argc, char** argv) {
  using namespace recsys;
  cli::CommandRegistry registry;
  cli::register_data_commands(registry);
  cli::register_lookup_command(registry);
  cli::register_quickstart_command(registry);
  cli::register_ml_commands_lazily(registry);  // index, train, evaluate, recommend, serve

  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << registry.usage();
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  const cli::CommandInfo* cmd = registry.find(name);
  if (!cmd) {
    std::cerr << "recsys: unknown command '" << name << "'\n" << registry.usage();
    return 2;
  }
  // LibTorch's OpenMP threads spin-wait between parallel regions by default. For long training /
  // indexing runs on a shared machine that is ruinous (measured: 70% of a contended SASRec run in
  // libgomp spin loops; 138 -> 640 samples/s with passive waits) for ~10% less on an idle one, so
  // those commands wait passively. Decoding keeps spinning: passive waits halved its bf16 rate on
  // an idle machine (340 -> 176 users/s). libgomp reads this when the ML module loads it, i.e.
  // after this line; the user's own OMP_WAIT_POLICY wins.
  if (name != "evaluate" && name != "recommend" && name != "serve") {
    setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0);
  }
  try {
    return cmd->run(std::vector<std::string>(argv + 2, argv + argc));
  } catch (const Error& e) {
    std::cerr << "recsys " << name << ": " << error_code_name(e.code()) << ": " << e.what()
              << std::endl;
    return e.code() == ErrorCode::kInvalidArgument ? 2 : 1;
  } catch (const std::exception& e) {
    std::cerr << "recsys " << name << ": error: " << e.what() << std::endl;
    return 1;
  }
}
