// Entry point of bin/librecsys_ml.so: the LibTorch commands (see ml_module.h).
#include "recsys/allocator.h"
#include "recsys/cli/command.h"
#include "recsys/cli/ml_module.h"

extern "C" __attribute__((visibility("default"))) void recsys_register_ml_commands(
    recsys::cli::CommandRegistry* registry) {
  recsys::keep_freed_tensor_memory();  // the LibTorch commands are about to run
  recsys::cli::register_index_command(*registry);
  recsys::cli::register_train_commands(*registry);
  recsys::cli::register_serve_command(*registry);
}
