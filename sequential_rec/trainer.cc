#include "sequential_rec/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "recsys/error.h"
#include "recsys/logging.h"
#include "recsys/progress.h"
#include "recsys/strings.h"
#include "sequential_rec/internal/batching.h"
#include "sequential_rec/internal/checkpoint_commit.h"
#include "sequential_rec/internal/kernel_retry.h"
#include "sequential_rec/internal/model_adapter.h"
#include "sequential_rec/internal/parallel.h"

namespace recsys::seqrec {

namespace fs = std::filesystem;
using internal::ModelAdapter;

namespace internal {

std::vector<std::vector<uint32_t>> plan_epoch(size_t n, uint64_t seed, int64_t epoch,
                                              int64_t batch_size) {
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) + 1);
  std::shuffle(order.begin(), order.end(), rng);
  const size_t size = static_cast<size_t>(batch_size);
  std::vector<std::vector<uint32_t>> batches;
  for (size_t lo = 0; lo < n; lo += size) {
    batches.emplace_back(order.begin() + lo, order.begin() + std::min(n, lo + size));
  }
  if (batches.size() > 1 && batches.back().size() < size) {
    auto& last = batches.back();
    last.insert(last.end(), order.begin(), order.begin() + (size - last.size()));
  }
  return batches;
}

}  // namespace internal

namespace {

// Seed of the dropout masks of one length group of one step: a pure function of (seed, step,
// group), so a resumed run draws the same masks and the thread count does not matter.
uint64_t dropout_seed(uint64_t seed, int64_t step, int64_t group) {
  uint64_t h = seed * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(step) << 8) ^
               static_cast<uint64_t>(group);
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 29);
}

// The batch sorted by sample length and cut into `groups` contiguous groups of near-equal size.
std::vector<std::vector<uint32_t>> length_groups(const ModelAdapter& model,
                                                 std::vector<uint32_t> batch, int64_t groups) {
  std::stable_sort(batch.begin(), batch.end(), [&](uint32_t a, uint32_t b) {
    return model.sample_length(a) < model.sample_length(b);
  });
  const size_t g = static_cast<size_t>(std::clamp<int64_t>(groups, 1, batch.size()));
  std::vector<std::vector<uint32_t>> out(g);
  for (size_t i = 0; i < g; ++i) {
    out[i].assign(batch.begin() + batch.size() * i / g, batch.begin() + batch.size() * (i + 1) / g);
  }
  return out;
}

// One optimisation step's gradients. The batch is cut into length groups (each padded to its own
// longest sample); the groups are dealt to one shard per intra-op thread, longest first to the
// least loaded shard; each shard runs its groups' forward and backward single-threaded, each group
// weighted by its share of the batch's loss terms, so the sum is the gradient of the batch mean.
// Shard gradients are summed in shard order (deterministic). Returns the batch loss.
double accumulate_gradients(ModelAdapter& model, const std::vector<uint32_t>& batch,
                            std::vector<torch::Tensor>& params, uint64_t seed, int64_t step,
                            int64_t groups, bool bf16, torch::Device device) {
  const auto parts = length_groups(model, batch, groups);
  const int64_t g = static_cast<int64_t>(parts.size());
  std::vector<int64_t> terms(g);
  int64_t total_terms = 0;
  for (int64_t i = 0; i < g; ++i) {
    terms[i] = model.loss_terms(parts[i]);
    total_terms += terms[i];
  }
  RECSYS_CHECK(total_terms > 0, "a training batch has no loss terms");
  const int64_t shards = device.is_cpu() ? std::min<int64_t>(internal::shard_threads(), g) : 1;
  std::vector<std::vector<int64_t>> owned(shards);
  {
    std::vector<double> load(shards, 0.0);
    for (int64_t i = g - 1; i >= 0; --i) {  // longest group first
      const int64_t s = std::min_element(load.begin(), load.end()) - load.begin();
      owned[s].push_back(i);
      load[s] += static_cast<double>(model.sample_length(parts[i].back()) + 1) * parts[i].size();
    }
  }
  std::vector<std::vector<torch::Tensor>> grads(shards);
  std::vector<double> losses(g);
  internal::run_shards(shards, [&](int64_t s) {
    for (int64_t i : owned[s]) {
      internal::ScopedDropoutStream stream(dropout_seed(seed, step, i));
      torch::Tensor loss;
      {
        internal::AutocastGuard autocast(bf16, device);
        loss = model.loss(parts[i]);
      }
      const double w = static_cast<double>(terms[i]) / static_cast<double>(total_terms);
      if (shards == 1) {
        (loss * w).backward();
      } else {
        auto gi = torch::autograd::grad({loss * w}, params, {}, /*retain_graph=*/false,
                                        /*create_graph=*/false, /*allow_unused=*/true);
        auto& acc = grads[s];
        if (acc.empty()) {
          acc = std::move(gi);
        } else {
          for (size_t p = 0; p < params.size(); ++p) {
            if (!gi[p].defined()) continue;
            acc[p] = acc[p].defined() ? acc[p] + gi[p] : gi[p];
          }
        }
      }
      losses[i] = loss.item<double>() * w;
    }
  });
  if (shards > 1) {
    for (size_t i = 0; i < params.size(); ++i) {
      torch::Tensor sum;
      for (int64_t s = 0; s < shards; ++s) {
        const auto& gs = grads[s][i];
        if (gs.defined()) sum = sum.defined() ? sum.add_(gs) : gs.clone();  // owned, not a view
      }
      if (sum.defined()) params[i].mutable_grad() = sum;
    }
  }
  double l = 0;
  for (double x : losses) l += x;
  return l;
}

// One line of the training log.
struct EpochLog {
  int64_t epoch = 0;              // 1-based count of finished epochs
  double train_loss = 0;          // mean over the epoch's batches run in this process (NaN: none)
  double samples_per_second = 0;  // the epoch's training steps (the part run in this process)
};

struct TrainerState {
  int64_t epoch = 0;  // epochs finished
  int64_t batch = 0;  // batches of the current epoch already done
  int64_t step = 0;
  double best_metric = -1;
  int64_t best_epoch = 0;
  int64_t bad_evals = 0;
  double elapsed = 0;
  bool finished = false;
  std::string stop_reason;
  Cooldown cooldown;  // a time budget's cooldown, once it has begun

  ConfigMap to_map() const {
    std::ostringstream best;
    best.precision(17);
    best << best_metric;
    std::ostringstream el;
    el.precision(17);
    el << elapsed;
    std::ostringstream factor;
    factor.precision(17);
    factor << cooldown.factor;
    return {{"epoch", std::to_string(epoch)},
            {"batch", std::to_string(batch)},
            {"step", std::to_string(step)},
            {"best_metric", best.str()},
            {"best_epoch", std::to_string(best_epoch)},
            {"bad_evals", std::to_string(bad_evals)},
            {"elapsed_seconds", el.str()},
            {"finished", finished ? "1" : "0"},
            {"stop_reason", stop_reason},
            {"cooldown_end", std::to_string(cooldown.end)},
            {"cooldown_from", std::to_string(cooldown.from)},
            {"cooldown_factor", factor.str()}};
  }
  static TrainerState from_map(const ConfigMap& m, const std::string& source) {
    auto get = [&](const std::string& k) {
      auto it = m.find(k);
      if (it == m.end()) RECSYS_THROW(ErrorCode::kCorruption, source, ": missing key '", k, "'");
      return it->second;
    };
    TrainerState s;
    s.epoch = std::stoll(get("epoch"));
    s.batch = std::stoll(get("batch"));
    s.step = std::stoll(get("step"));
    s.best_metric = std::stod(get("best_metric"));
    s.best_epoch = std::stoll(get("best_epoch"));
    s.bad_evals = std::stoll(get("bad_evals"));
    s.elapsed = std::stod(get("elapsed_seconds"));
    s.finished = get("finished") == "1";
    auto it = m.find("stop_reason");
    if (it != m.end()) s.stop_reason = it->second;
    it = m.find("cooldown_end");  // absent before 2026-11-30
    if (it != m.end()) s.cooldown.end = std::stoll(it->second);
    it = m.find("cooldown_from");  // absent before 1a879ec (2026-11-30): the plain cooldown
    if (it != m.end()) s.cooldown.from = std::stoll(it->second);
    it = m.find("cooldown_factor");
    if (it != m.end()) s.cooldown.factor = std::stod(it->second);
    return s;
  }
};

// The limit `s` has reached under `c`, as a stop reason; empty while steps are left. A time
// budget's cooldown that has run its course ends the budget it was planned for, or a smaller one,
// but not a larger one (which plans its own).
std::string limit_reached(const TrainConfig& c, const TrainerState& s, double cooldown_budget) {
  if (c.max_steps > 0 && s.step >= c.max_steps) return "max_steps";
  if (c.max_minutes > 0 && s.elapsed >= c.max_minutes * 60) return "time_budget";
  if (s.cooldown.end > 0 && s.step >= s.cooldown.end && c.max_minutes > 0 &&
      c.max_minutes <= cooldown_budget) {
    return "time_budget";
  }
  return {};
}

// The files of a checkpoint that commit together with its state file.
const std::vector<std::string> kCheckpointFiles = {internal::kLastWeights, internal::kOptimizerFile,
                                                   internal::kRngFile};

}  // namespace

TrainResult train_recommender(const Dataset& dataset, const IdMap* map,
                              const ModelConfig& model_config, const TrainConfig& config,
                              const std::atomic<bool>* stop) {
  model_config.validate();
  config.validate();
  torch::set_num_threads(config.threads);
  const torch::Device device = internal::parse_device(config.device);
  if (device.is_cpu()) RECSYS_LOG(Debug) << "OpenBLAS kernels: " << internal::openblas_core_name();
  torch::manual_seed(config.seed);
  auto model = internal::create_model(model_config, dataset.items.size(), map, device);
  model->prepare_training(dataset);
  RECSYS_CHECK(model->num_train_samples() > 0, "the dataset has no training samples");

  const bool bf16 = internal::parse_precision(config.precision);
  if (bf16 && device.is_cpu()) {
    // Training and its validations build more kernels than oneDNN keeps by default; room for all
    // of them avoids evictions (internal/kernel_retry.h).
    const int capacity =
        internal::reserve_onednn_primitive_cache(internal::kBf16KernelCacheCapacity);
    if (capacity >= 0) RECSYS_LOG(Debug) << "oneDNN kernel cache capacity " << capacity;
  }
  auto& module = model->module();
  auto params = module.parameters();
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(config.lr)
                                            .betas({0.9, config.adam_beta2})
                                            .weight_decay(config.weight_decay));
  auto set_lr = [&](double lr) {
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    }
  };

  // Checkpoint config: model + train config + data identity.
  ConfigMap ckpt_config = to_config_map(model_config);
  for (const auto& [k, v] : to_config_map(config)) ckpt_config[k] = v;
  for (const auto& [k, v] : model->identity()) ckpt_config[k] = v;
  ckpt_config["format_version"] = std::to_string(kCheckpointFormatVersion);
  ckpt_config["dataset"] = dataset.name;

  TrainerState state;
  TrainResult result;
  // A run interrupted in the step that reached its limit stops there on resume, as it would have.
  std::string stop_at_start;
  nlohmann::ordered_json changed_settings = nlohmann::ordered_json::object();  // key: [old, new]
  const bool use_dir = !config.out_dir.empty();
  const fs::path dir(config.out_dir);
  auto path = [&](const char* name) { return (dir / name).string(); };
  if (use_dir && config.resume && fs::exists(dir / internal::kStateFile)) {
    const ConfigMap saved = read_checkpoint_config(config.out_dir);
    RECSYS_CHECK(saved.at("model") == model_config.model, "checkpoint '", config.out_dir,
                 "' holds a ", saved.at("model"), " model, not ", model_config.model);
    internal::check_identity(saved, model->identity(), config.out_dir);
    // The model's shape must match the weights; its dropout rate is a training setting.
    ConfigMap settings = to_config_map(config), shape;
    for (const auto& [k, v] : to_config_map(model_config)) {
      const bool is_dropout = k.size() > 8 && k.compare(k.size() - 8, 8, ".dropout") == 0;
      (is_dropout ? settings : shape)[k] = v;
    }
    // A shape setting newer than the checkpoint had its default then.
    ConfigMap saved_shape = saved;
    ModelConfig default_shape;
    default_shape.model = model_config.model;
    for (const auto& [k, v] : to_config_map(default_shape)) saved_shape.emplace(k, v);
    internal::check_identity(saved_shape, shape, config.out_dir);
    // Budgets and the thread count may change between sessions; anything else that changed makes
    // the continuation a different run from the one begun, so it is said out loud.
    static const std::set<std::string> kMayChange = {
        "train.device",      "train.threads",  "train.max_epochs", "train.max_steps",
        "train.max_minutes", "train.patience", "train.eval_every"};
    // A setting newer than the checkpoint had its default then (new settings default to the old
    // behaviour).
    const ConfigMap defaults = to_config_map(TrainConfig{});
    std::string changed;
    for (const auto& [k, v] : settings) {
      auto it = saved.find(k);
      auto def = defaults.find(k);
      if (kMayChange.count(k) || (it == saved.end() && def == defaults.end())) continue;
      const std::string& was = it != saved.end() ? it->second : def->second;
      if (was == v) continue;
      changed += (changed.empty() ? "" : ", ") + k + " " + was + " -> " + v;
      changed_settings[k] = {was, v};
    }
    if (!changed.empty()) {
      RECSYS_LOG(Warning) << "resuming " << config.out_dir
                          << " with changed training settings (the run continues under the new "
                             "ones): "
                          << changed;
    }
    state = TrainerState::from_map(internal::recover_checkpoint(config.out_dir, kCheckpointFiles),
                                   path(internal::kStateFile));
    // The position in an epoch counts batches of that epoch's plan, which the seed and the batch
    // size draw: under others it would skip or repeat samples.
    for (const char* key : {"train.batch_size", "train.seed"}) {
      const auto was = saved.find(key);
      const std::string now = to_config_map(config).at(key);
      if (state.batch > 0 && was != saved.end() && was->second != now) {
        RECSYS_THROW(ErrorCode::kInvalidArgument, config.out_dir, " stopped in epoch ",
                     state.epoch + 1, " after batch ", state.batch, " of its plan for ", key, " ",
                     was->second, "; resuming with ", now,
                     " would skip or repeat samples: resume with ", was->second,
                     " (it may change at an epoch's end) or start over with --no-resume");
      }
    }
    internal::load_module(module, path(internal::kLastWeights), device);
    torch::serialize::InputArchive opt_archive;
    opt_archive.load_from(path(internal::kOptimizerFile), device);
    optimizer.load(opt_archive);
    torch::Tensor rng_state;
    torch::load(rng_state, path(internal::kRngFile));
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    gen.set_state(rng_state);
    result.resumed = true;
    // A run stopped by a step or time limit continues only when the new limits leave steps to
    // take; one stopped early, only when the new patience allows more validations without a gain
    // than it has had.
    const auto budget_it = saved.find("train.max_minutes");
    const double planned_for = budget_it != saved.end() ? std::stod(budget_it->second) : 0.0;
    const std::string reached = limit_reached(config, state, planned_for);
    const bool stopped_early = state.stop_reason == "early_stopping";
    if (stopped_early && state.bad_evals >= config.patience) {
      RECSYS_LOG(Info) << config.out_dir << " stopped early after " << state.bad_evals
                       << " validations without a gain; a larger --patience continues it";
    } else if (!reached.empty()) {
      if (state.finished) {
        RECSYS_LOG(Info) << config.out_dir << " has reached its "
                         << (reached == "max_steps" ? "step limit" : "time budget") << " (step "
                         << state.step << ", " << format_duration(state.elapsed)
                         << "); a larger --max-steps / --max-minutes continues it";
      } else {
        stop_at_start = reached;
      }
    } else {
      if (stopped_early) {
        RECSYS_LOG(Info) << "continuing " << config.out_dir << ", stopped early after "
                         << state.bad_evals << " validations without a gain: patience now "
                         << config.patience;
      }
      state.finished = false;
      state.stop_reason.clear();
    }
    // A time budget's cooldown belongs to that budget. Once it is over, or when the new budget is
    // larger (or gone), it is dropped: the rate returns to its schedule (a warm restart from the
    // annealed weights) and the new budget plans its own. A smaller budget shortens the one under
    // way (plan_cooldown), and an interrupted run under the same budget finishes it.
    if (state.cooldown.end > 0 && reached.empty()) {
      const bool over = state.step >= state.cooldown.end;
      if (over || config.max_minutes <= 0 || config.max_minutes > planned_for) {
        RECSYS_LOG(Info) << "the cooldown planned for the previous budget (" << planned_for
                         << " min) " << (over ? "ended" : "was to end") << " at step "
                         << state.cooldown.end << "; the learning rate returns to its schedule ("
                         << learning_rate(config, state.step + 1)
                         << ") and the new budget plans its own cooldown";
        state.cooldown = {};
      }
    }
    RECSYS_LOG(Info) << "resuming " << config.out_dir << " at epoch " << state.epoch << " batch "
                     << state.batch << " step " << state.step;
  } else if (use_dir) {
    fs::create_directories(dir);
    // A fresh run (--no-resume, or a run cut short before its first checkpoint) must not leave the
    // files of the one before it: `evaluate` would load the old best.pt, and the log mix both.
    const std::string stale = internal::remove_checkpoint(
        config.out_dir, {internal::kLastWeights, internal::kBestWeights, internal::kOptimizerFile,
                         internal::kRngFile, internal::kStateFile, internal::kTrainLog});
    if (!stale.empty())
      RECSYS_LOG(Warning) << "starting a new run in " << config.out_dir
                          << ": removed the previous run's " << stale;
  }
  if (use_dir) {
    internal::write_text_file(path(internal::kConfigFile), write_config_lines(ckpt_config));
    // The training log says where a run continued under other settings.
    if (!changed_settings.empty()) {
      nlohmann::ordered_json line = {
          {"resumed_at_step", state.step}, {"epoch", state.epoch}, {"changed", changed_settings}};
      std::ofstream(path(internal::kTrainLog), std::ios::app) << line.dump() << "\n";
    }
  }

  auto save_checkpoint = [&]() {
    if (!use_dir) return;
    internal::save_module(module, internal::staged_path(config.out_dir, internal::kLastWeights));
    torch::serialize::OutputArchive opt_archive;
    optimizer.save(opt_archive);
    opt_archive.save_to(internal::staged_path(config.out_dir, internal::kOptimizerFile));
    torch::save(at::detail::getDefaultCPUGenerator().get_state(),
                internal::staged_path(config.out_dir, internal::kRngFile));
    internal::commit_checkpoint(config.out_dir, kCheckpointFiles, state.to_map());
  };

  // Best weights in memory when there is no directory.
  std::vector<torch::Tensor> best_weights;
  auto keep_best = [&]() {
    if (use_dir) {
      internal::save_module(module, path(internal::kBestWeights));
    } else {
      torch::NoGradGuard ng;
      best_weights.clear();
      for (const auto& p : module.parameters()) best_weights.push_back(p.detach().clone());
    }
  };

  EvalConfig eval_config = config.eval;
  eval_config.ks = {5, 10, 20};
  eval_config.max_users = config.eval_users;
  eval_config.precision = config.precision;
  auto validate = [&](EpochLog& log) {
    auto r = evaluate(*model, dataset, Split::kValidation, eval_config);
    const double ndcg = r.metrics.at("ndcg@10");
    RECSYS_LOG(Info) << "validation epoch " << log.epoch << " step " << state.step << " users "
                     << r.users << " R@10 " << format_fixed(r.metrics.at("recall@10"), 4)
                     << " N@10 " << format_fixed(ndcg, 4) << " (" << format_fixed(r.seconds, 1)
                     << " s)";
    if (ndcg > state.best_metric) {
      state.best_metric = ndcg;
      state.best_epoch = log.epoch;
      state.bad_evals = 0;
      keep_best();
    } else {
      ++state.bad_evals;
    }
    if (use_dir) {
      nlohmann::ordered_json line = {
          {"epoch", log.epoch},
          {"step", state.step},
          {"train_loss", std::isnan(log.train_loss) ? nlohmann::ordered_json()
                                                    : nlohmann::ordered_json(log.train_loss)},
          {"lr", learning_rate(config, std::max<int64_t>(state.step, 1), state.cooldown)},
          {"samples_per_s", log.samples_per_second},
          {"elapsed_seconds", state.elapsed}};
      for (const auto& [k, v] : r.metrics) line["valid_" + k] = v;
      std::ofstream out(path(internal::kTrainLog), std::ios::app);
      out << line.dump() << "\n";
    }
  };

  const auto session_start = std::chrono::steady_clock::now();
  const double elapsed_before = state.elapsed;
  auto now_elapsed = [&]() {
    return elapsed_before +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start).count();
  };
  double train_seconds = 0;  // this session, steps only
  uint64_t samples_done = 0;
  int64_t session_steps = 0;
  // With a time budget, the cooldown begins once the time left covers no more than
  // cooldown_steps steps, and ends sooner if the pace drops (plan_cooldown). The pace is this
  // session's, validations included; once the cooldown has run for one validation period, its
  // own pace counts when slower, so a late slowdown is not averaged away.
  const int64_t samples_per_epoch = static_cast<int64_t>(model->num_train_samples());
  const int64_t batches_per_epoch = (samples_per_epoch + config.batch_size - 1) / config.batch_size;
  const int64_t steps_per_validation = config.eval_every * batches_per_epoch;
  double cooldown_since = state.cooldown.end > 0 ? elapsed_before : -1;  // time and step it began
  int64_t cooldown_since_step = state.step;                              // (in this session)
  auto plan_time_cooldown = [&]() {
    constexpr int64_t kStepsToEstimatePace = 10;
    if (config.cooldown_steps == 0 || config.max_minutes <= 0 ||
        session_steps < kStepsToEstimatePace ||
        (state.cooldown.end > 0 && state.step >= state.cooldown.end)) {
      return;
    }
    const double now = now_elapsed();
    double seconds_per_step = (now - elapsed_before) / static_cast<double>(session_steps);
    if (cooldown_since >= 0 && state.step - cooldown_since_step >= steps_per_validation) {
      seconds_per_step =
          std::max(seconds_per_step, (now - cooldown_since) / (state.step - cooldown_since_step));
    }
    const Cooldown planned = plan_cooldown(config, state.cooldown, state.step,
                                           config.max_minutes * 60 - now, seconds_per_step);
    if (planned.end == state.cooldown.end) return;
    if (state.cooldown.end == 0) {
      cooldown_since = now;
      cooldown_since_step = state.step;
      RECSYS_LOG(Info) << "cooldown begins: at " << format_fixed(seconds_per_step, 3)
                       << " s/step the time left allows "
                       << (planned.from == 0
                               ? "at most " + std::to_string(config.cooldown_steps)
                               : std::to_string(planned.end - state.step) + " of the " +
                                     std::to_string(config.cooldown_steps))
                       << " steps; the learning rate falls linearly until step " << planned.end;
    } else {
      RECSYS_LOG(Info) << "cooldown shortened: at " << format_fixed(seconds_per_step, 3)
                       << " s/step the time left allows " << planned.end - state.step << " of the "
                       << state.cooldown.end - state.step
                       << " steps left; the learning rate now falls linearly until step "
                       << planned.end;
    }
    state.cooldown = planned;
  };
  const bool finished_at_start = state.finished;  // then the checkpoint stays as it is
  module.train();
  RECSYS_LOG(Info) << "training " << model_config.model << ": " << model->num_parameters()
                   << " parameters, " << model->num_train_samples() << " samples/epoch, batch "
                   << config.batch_size << ", device " << device.str() << ", threads "
                   << config.threads;

  auto last_log = std::chrono::steady_clock::now();
  double interval_loss = 0;
  int64_t interval_batches = 0;
  uint64_t interval_samples = 0;
  auto interval_start = last_log;

  while (!state.finished) {
    if (state.epoch >= config.max_epochs) {
      state.finished = true;
      state.stop_reason = "max_epochs";
      break;
    }
    auto batches = internal::plan_epoch(model->num_train_samples(), config.seed, state.epoch,
                                        config.batch_size);
    double epoch_loss = 0, epoch_seconds = 0;
    int64_t epoch_batches = 0;
    uint64_t epoch_samples = 0;
    bool stop_mid_epoch = false;
    if (!stop_at_start.empty()) {
      state.stop_reason = stop_at_start;
      stop_at_start.clear();
      stop_mid_epoch = true;
    }
    for (size_t b = static_cast<size_t>(state.batch); b < batches.size() && !stop_mid_epoch; ++b) {
      const auto t0 = std::chrono::steady_clock::now();
      plan_time_cooldown();
      const double lr = learning_rate(config, state.step + 1, state.cooldown);
      set_lr(lr);
      optimizer.zero_grad();
      // A step done again draws the same dropout masks; only its products are float32.
      const double l = internal::with_fp32_fallback(
          "training step " + std::to_string(state.step + 1),
          [&](bool fp32) {
            return accumulate_gradients(*model, batches[b], params, config.seed, state.step,
                                        config.length_groups, bf16 && !fp32, device);
          },
          [&] { optimizer.zero_grad(); });
      if (config.clip_norm > 0) torch::nn::utils::clip_grad_norm_(params, config.clip_norm);
      optimizer.step();
      RECSYS_CHECK(std::isfinite(l), "training diverged (loss ", l, ") at step ", state.step + 1);
      ++state.step;
      ++session_steps;
      state.batch = static_cast<int64_t>(b) + 1;
      result.last_loss = l;
      epoch_loss += l;
      ++epoch_batches;
      interval_loss += l;
      ++interval_batches;
      interval_samples += batches[b].size();
      samples_done += batches[b].size();
      epoch_samples += batches[b].size();
      const auto t1 = std::chrono::steady_clock::now();
      train_seconds += std::chrono::duration<double>(t1 - t0).count();
      epoch_seconds += std::chrono::duration<double>(t1 - t0).count();
      state.elapsed = now_elapsed();
      if (std::chrono::duration<double>(t1 - last_log).count() >= config.log_interval_seconds) {
        const double rate =
            interval_samples / std::chrono::duration<double>(t1 - interval_start).count();
        int64_t left_batches = (config.max_epochs - state.epoch) * batches_per_epoch - state.batch;
        if (config.max_steps > 0)
          left_batches = std::min(left_batches, config.max_steps - state.step);
        if (state.cooldown.end > 0)
          left_batches = std::min(left_batches, state.cooldown.end - state.step);
        double eta = rate > 0 ? left_batches * double(config.batch_size) / rate : 0;
        if (config.max_minutes > 0) eta = std::min(eta, config.max_minutes * 60 - state.elapsed);
        RECSYS_LOG(Info) << "epoch " << state.epoch + 1 << " step " << state.step << " batch "
                         << state.batch << "/" << batches.size() << " loss "
                         << format_fixed(interval_loss / interval_batches, 4) << " samples/s "
                         << format_fixed(rate, 0) << " lr " << lr << " elapsed "
                         << format_duration(state.elapsed) << " eta "
                         << format_duration(std::max(0.0, eta));
        last_log = t1;
        interval_start = t1;
        interval_loss = 0;
        interval_batches = 0;
        interval_samples = 0;
      }
      if (stop != nullptr && stop->load()) {
        state.stop_reason = "interrupted";
        stop_mid_epoch = true;
        break;
      }
      state.stop_reason = limit_reached(config, state, config.max_minutes);
      if (!state.stop_reason.empty()) {
        stop_mid_epoch = true;
        break;
      }
    }
    EpochLog log;
    log.train_loss = epoch_batches ? epoch_loss / epoch_batches : std::nan("");
    log.samples_per_second = epoch_seconds > 0 ? epoch_samples / epoch_seconds : 0;
    // An interruption keeps even a finished epoch open: its validation (when due) runs on resume.
    const bool interrupted = state.stop_reason == "interrupted";
    // A final stop validates the weights it ends with: a time budget's, and a step limit's when a
    // cooldown anneals to it. A plain step limit validates only where the run would have anyway,
    // so that a larger --max-steps continues it exactly.
    const bool final_validation = state.stop_reason == "time_budget" ||
                                  (state.stop_reason == "max_steps" && config.cooldown_steps > 0);
    if (stop_mid_epoch && (interrupted || state.batch < static_cast<int64_t>(batches.size()))) {
      log.epoch = state.epoch;  // partial epoch
      if (final_validation) validate(log);
      state.finished = !interrupted;
      state.elapsed = now_elapsed();
      save_checkpoint();
      if (interrupted) {
        RECSYS_LOG(Warning) << "interrupted at step " << state.step << " (epoch " << state.epoch + 1
                            << ", batch " << state.batch << ")"
                            << (use_dir ? "; checkpoint saved in " + config.out_dir +
                                              ": the same command resumes here"
                                        : "");
      }
      break;
    }
    const bool validation_due = (state.epoch + 1) % config.eval_every == 0 || final_validation ||
                                state.epoch + 1 >= config.max_epochs;
    // The epoch's steps are kept before its validation runs: a crash or kill in the validation
    // then costs only the validation, which the resume runs (as after an interruption).
    if (validation_due) save_checkpoint();
    ++state.epoch;
    state.batch = 0;
    log.epoch = state.epoch;
    if (validation_due) {
      validate(log);
      if (state.bad_evals >= config.patience) {
        state.finished = true;
        state.stop_reason = "early_stopping";
      }
      // A validation that spent the rest of the time budget ends the run here, not after one
      // more step and a second validation.
      if (!stop_mid_epoch && !state.finished && config.max_minutes > 0 &&
          now_elapsed() >= config.max_minutes * 60) {
        state.finished = true;
        state.stop_reason = "time_budget";
      }
    }
    if (stop_mid_epoch) state.finished = true;
    state.elapsed = now_elapsed();
    save_checkpoint();
  }
  if (state.stop_reason.empty()) state.stop_reason = "max_epochs";
  if (!finished_at_start) save_checkpoint();

  // Hand back the best weights.
  if (state.best_metric >= 0) {
    if (use_dir) {
      internal::load_module(module, path(internal::kBestWeights), device);
    } else if (!best_weights.empty()) {
      torch::NoGradGuard ng;
      auto ps = module.parameters();
      for (size_t i = 0; i < ps.size(); ++i) ps[i].copy_(best_weights[i]);
    }
  }
  module.eval();
  result.steps = state.step;
  result.best_epoch = state.best_epoch;
  result.best_valid_ndcg10 = state.best_metric;
  result.elapsed_seconds = state.elapsed;
  result.samples_per_second = train_seconds > 0 ? samples_done / train_seconds : 0;
  result.num_parameters = model->num_parameters();
  result.stop_reason = state.stop_reason;
  RECSYS_LOG(Info) << "training stopped (" << state.stop_reason << ") after " << state.step
                   << " steps, " << format_duration(state.elapsed) << "; best validation N@10 "
                   << format_fixed(state.best_metric, 4) << " at epoch " << state.best_epoch;
  result.model = std::move(model);
  return result;
}

}  // namespace recsys::seqrec
