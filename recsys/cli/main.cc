// Entry point of the `recsys` command line. The one place that maps errors to exit codes.
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
