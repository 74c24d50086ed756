#include "recsys/cli/ml_module.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "recsys/error.h"

namespace recsys::cli {

namespace {

std::string module_path() {
  if (const char* env = std::getenv("RECSYS_ML_MODULE")) return env;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ((ec ? std::filesystem::path(".") : exe.parent_path()) / "librecsys_ml.so").string();
}

// The module's own registry, filled once.
const CommandRegistry& ml_registry() {
  static CommandRegistry registry;
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string path = module_path();
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle)
      RECSYS_THROW(ErrorCode::kUnsupported, "cannot load the LibTorch commands from '", path,
                   "': ", ::dlerror(), " (set RECSYS_ML_MODULE to its path)");
    using RegisterFn = void (*)(CommandRegistry*);
    auto fn = reinterpret_cast<RegisterFn>(::dlsym(handle, "recsys_register_ml_commands"));
    if (!fn) RECSYS_THROW(ErrorCode::kUnsupported, "'", path, "' is not a recsys command module");
    fn(&registry);  // the handle stays open for the life of the process
  });
  return registry;
}

}  // namespace

void register_ml_commands_lazily(CommandRegistry& registry) {
  const std::pair<const char*, const char*> commands[] = {
      {"index", "learn a semantic-ID map (rkmeans, hkmeans, rqvae, lmindexer, ...), report"},
      {"train", "train a TIGER or SASRec recommender"},
      {"evaluate", "Recall/NDCG@K with full ranking on validation and test"},
      {"recommend", "top-k items for a user or a history"},
      {"serve", "HTTP/JSON server for lookups and recommendations"}};
  for (const auto& [name, summary] : commands) {
    const std::string command = name;
    registry.add({command, summary, [command](const std::vector<std::string>& args) {
                    const CommandInfo* real = ml_registry().find(command);
                    RECSYS_CHECK(real != nullptr, "the command module lacks '", command, "'");
                    return real->run(args);
                  }});
  }
}

}  // namespace recsys::cli
