// The commands that need LibTorch (index, train, evaluate, recommend, serve) live in a module,
// bin/librecsys_ml.so, loaded only when one of them runs: the data and lookup commands start
// without paying LibTorch's start-up (about 0.6 s and 150 MB).
#pragma once

#include "recsys/cli/command.h"

namespace recsys::cli {

// Registers entries for the module's commands that load it on first use. The module path is
// $RECSYS_ML_MODULE, else librecsys_ml.so beside the running executable.
void register_ml_commands_lazily(CommandRegistry& registry);

}  // namespace recsys::cli

// Exported by the module: registers its commands into `registry`.
extern "C" void recsys_register_ml_commands(recsys::cli::CommandRegistry* registry);
