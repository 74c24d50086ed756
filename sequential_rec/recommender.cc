#include "sequential_rec/recommender.h"

#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "recsys/error.h"
#include "recsys/logging.h"
#include "sequential_rec/internal/model_adapter.h"
#include "sequential_rec/internal/parallel.h"

namespace recsys::seqrec {

namespace fs = std::filesystem;

void set_num_threads(int threads) {
  RECSYS_CHECK(threads > 0, "threads must be positive");
  torch::set_num_threads(threads);
}

namespace internal {

torch::Device parse_device(const std::string& name) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(name);
  } catch (const std::exception&) {
    RECSYS_THROW(ErrorCode::kInvalidArgument, "unknown device '", name,
                 "' (valid: cpu, cuda, cuda:N)");
  }
  if (device.is_cuda() && !torch::cuda::is_available()) {
    RECSYS_THROW(ErrorCode::kUnsupported, "device '", name,
                 "' requested but this LibTorch build has no usable CUDA device");
  }
  return device;
}

std::unique_ptr<ModelAdapter> create_model(const ModelConfig& config, size_t num_items,
                                           const IdMap* map, torch::Device device) {
  config.validate();
  if (device.is_cpu()) warn_if_blas_kernels_pinned();
  static const std::map<std::string, ModelFactory> registry = {{"tiger", make_tiger},
                                                               {"sasrec", make_sasrec}};
  auto it = registry.find(config.model);
  if (it == registry.end()) {
    std::string names;
    for (const auto& [n, f] : registry) names += (names.empty() ? "" : ", ") + n;
    RECSYS_THROW(ErrorCode::kInvalidArgument, "unknown model '", config.model, "' (valid: ", names,
                 ")");
  }
  return it->second(config, num_items, map, device);
}

std::vector<size_t> order_by_history_length(const std::vector<Query>& queries) {
  std::vector<size_t> order(queries.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return queries[a].history.size() < queries[b].history.size();
  });
  return order;
}

bool parse_precision(const std::string& name) {
  check_precision(name);
  return name == "bf16";
}

void check_identity(const ConfigMap& saved, const ConfigMap& current, const std::string& dir) {
  for (const auto& [key, value] : current) {
    auto it = saved.find(key);
    RECSYS_CHECK(it != saved.end() && it->second == value, "checkpoint '", dir, "' was made with ",
                 key, " = '", it == saved.end() ? std::string("?") : it->second,
                 "', the data given has '", value, "'");
  }
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) RECSYS_THROW(ErrorCode::kNotFound, "cannot read '", path, "'");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

void write_text_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) RECSYS_THROW(ErrorCode::kIOError, "cannot write '", tmp, "'");
    out << text;
    out.flush();
    if (!out) RECSYS_THROW(ErrorCode::kIOError, "write to '", tmp, "' failed");
  }
  fs::rename(tmp, path);
}

void save_module(torch::nn::Module& module, const std::string& path) {
  const std::string tmp = path + ".tmp";
  torch::serialize::OutputArchive archive;
  module.save(archive);
  archive.save_to(tmp);
  fs::rename(tmp, path);
}

void load_module(torch::nn::Module& module, const std::string& path, torch::Device device) {
  if (!fs::exists(path)) RECSYS_THROW(ErrorCode::kNotFound, "no weights at '", path, "'");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, device);
    module.load(archive);
  } catch (const c10::Error& e) {
    RECSYS_THROW(ErrorCode::kCorruption, "cannot load weights '", path,
                 "': ", e.what_without_backtrace());
  }
}

}  // namespace internal

ItemEmbeddings Recommender::item_embeddings() const {
  RECSYS_THROW(ErrorCode::kUnsupported, name(),
               " has no vector per item (item embeddings come from a SASRec checkpoint)");
}

ConfigMap read_checkpoint_config(const std::string& dir) {
  const std::string path = (fs::path(dir) / internal::kConfigFile).string();
  if (!fs::exists(path)) {
    RECSYS_THROW(ErrorCode::kNotFound, "'", dir, "' is not a recommender checkpoint (no ",
                 internal::kConfigFile, ")");
  }
  ConfigMap m = read_config_lines(internal::read_text_file(path), path);
  auto it = m.find("format_version");
  RECSYS_CHECK(it != m.end(), path, ": no format_version");
  if (it->second != std::to_string(kCheckpointFormatVersion)) {
    RECSYS_THROW(ErrorCode::kUnsupported, path, ": checkpoint format version ", it->second,
                 " is not supported (this build reads ", kCheckpointFormatVersion, ")");
  }
  return m;
}

ConfigMap read_checkpoint_state(const std::string& dir) {
  const fs::path path = fs::path(dir) / internal::kStateFile;
  if (!fs::exists(path)) return {};
  return read_config_lines(internal::read_text_file(path.string()), path.string());
}

std::string trained_precision(const ConfigMap& config) {
  auto it = config.find("train.precision");
  return it != config.end() && it->second == "bf16" ? "bf16" : "fp32";
}

CheckpointWeights parse_checkpoint_weights(const std::string& name) {
  if (name == "best") return CheckpointWeights::kBest;
  if (name == "last") return CheckpointWeights::kLast;
  RECSYS_THROW(ErrorCode::kInvalidArgument, "checkpoint weights must be best or last, got '", name,
               "'");
}

std::unique_ptr<Recommender> load_recommender(const std::string& dir, const IdMap* map,
                                              const std::string& device_name,
                                              CheckpointWeights which) {
  const ConfigMap saved = read_checkpoint_config(dir);
  const ModelConfig config = model_config_from_map(saved);
  auto num_items_it = saved.find("num_items");
  RECSYS_CHECK(num_items_it != saved.end(), dir, ": checkpoint has no num_items");
  const size_t num_items = std::stoull(num_items_it->second);
  const torch::Device device = internal::parse_device(device_name);
  auto model = internal::create_model(config, num_items, map, device);
  internal::check_identity(saved, model->identity(), dir);
  const fs::path best = fs::path(dir) / internal::kBestWeights;
  const fs::path last = fs::path(dir) / internal::kLastWeights;
  const fs::path weights = which == CheckpointWeights::kBest && fs::exists(best) ? best : last;
  internal::load_module(model->module(), weights.string(), device);
  RECSYS_LOG(Info) << "loaded " << config.model << " from " << weights.string() << " ("
                   << model->num_parameters() << " parameters)";
  return model;
}

}  // namespace recsys::seqrec
