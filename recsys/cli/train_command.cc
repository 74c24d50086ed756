// recsys train | evaluate | recommend: the sequential recommenders (TIGER on semantic IDs, SASRec
// on item IDs) over a store. Torch-free: everything goes through sequential_rec's plain headers.
#include <atomic>
#include <cmath>
#include <csignal>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "recsys/cli/checkpoint.h"
#include "recsys/cli/command.h"
#include "recsys/error.h"
#include "recsys/option_value.h"
#include "recsys/progress.h"
#include "recsys/strings.h"
#include "sequential_rec/ensemble.h"
#include "sequential_rec/evaluator.h"
#include "sequential_rec/recommender.h"
#include "sequential_rec/trainer.h"
#include "storage/store.h"

namespace recsys::cli {

namespace {

using seqrec::EvalConfig;
using seqrec::ModelConfig;
using seqrec::TrainConfig;

// SIGINT / SIGTERM while training: the first asks the trainer to save a checkpoint and stop after
// the current step; the handler then restores the default action, so a second one ends the process.
std::atomic<bool> g_stop_training{false};
volatile std::sig_atomic_t g_stop_signal = 0;
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

void request_stop(int signal) {
  g_stop_signal = signal;
  g_stop_training.store(true);
  std::signal(signal, SIG_DFL);
}

class StopOnSignals {
 public:
  StopOnSignals() {
    g_stop_training.store(false);
    g_stop_signal = 0;
    previous_int_ = install(SIGINT);
    previous_term_ = install(SIGTERM);
  }
  ~StopOnSignals() {
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;
  const std::atomic<bool>* flag() const { return &g_stop_training; }
  int signal() const { return g_stop_signal; }

 private:
  static void (*install(int signal))(int) {
    auto previous = std::signal(signal, request_stop);
    if (previous == SIG_IGN) std::signal(signal, SIG_IGN);  // e.g. SIGINT of a background job
    return previous;
  }
  void (*previous_int_)(int);
  void (*previous_term_)(int);
};

void add_model_options(po::options_description& desc, ModelConfig& c) {
  auto& t = c.tiger;
  auto& s = c.sasrec;
  desc.add_options()("model", po::value(&c.model)->default_value(c.model), "tiger | sasrec")(
      "tiger.user-tokens", po::value(&t.num_user_tokens)->default_value(t.num_user_tokens),
      "hashed user tokens (the published TIGER's 2,000; 0 = one shared token, better on Beauty: "
      "test N@10 0.0390 against 0.0334 over 3 seeds each, benchmarks/reports/seqrec_beauty.md)")(
      "tiger.max-items", po::value(&t.max_items)->default_value(t.max_items),
      "history items read by the encoder")(
      "tiger.d-model", po::value(&t.d_model)->default_value(t.d_model), "model width")(
      "tiger.heads", po::value(&t.num_heads)->default_value(t.num_heads), "attention heads")(
      "tiger.head-dim", po::value(&t.head_dim)->default_value(t.head_dim), "size of one head")(
      "tiger.d-ff", po::value(&t.d_ff)->default_value(t.d_ff), "feed-forward width")(
      "tiger.encoder-layers", po::value(&t.encoder_layers)->default_value(t.encoder_layers),
      "encoder layers")("tiger.decoder-layers",
                        po::value(&t.decoder_layers)->default_value(t.decoder_layers),
                        "decoder layers")("tiger.dropout", real_value(&t.dropout), "dropout")(
      "tiger.encoder-input", po::value(&t.encoder_input)->default_value(t.encoder_input),
      "tokens (one encoder position per ID token, as published) | items (one per history item: "
      "the sum of its token embeddings; ~4x shorter encoder input)")(
      "tiger.item-ids", po::bool_switch(&t.item_ids),
      "the encoder also reads a learned embedding of each history item's own index (not in the "
      "published TIGER; the decoder still generates semantic IDs; on Beauty it memorised and "
      "lost N@10 0.0058: benchmarks/reports/seqrec_beauty.md, session 26)")(
      "sasrec.d-model", po::value(&s.d_model)->default_value(s.d_model), "SASRec width")(
      "sasrec.blocks", po::value(&s.num_blocks)->default_value(s.num_blocks), "SASRec blocks")(
      "sasrec.heads", po::value(&s.num_heads)->default_value(s.num_heads), "SASRec heads")(
      "sasrec.max-len", po::value(&s.max_len)->default_value(s.max_len), "SASRec history length")(
      "sasrec.dropout", real_value(&s.dropout), "SASRec dropout");
}

void add_train_options(po::options_description& desc, TrainConfig& c) {
  desc.add_options()("device", po::value(&c.device)->default_value(c.device),
                     "cpu | cuda | cuda:N")(
      "threads", po::value(&c.threads)->default_value(c.threads), "LibTorch intra-op threads")(
      "seed", po::value(&c.seed)->default_value(c.seed), "random seed")(
      "batch-size", po::value(&c.batch_size)->default_value(c.batch_size), "samples per step")(
      "lr", real_value(&c.lr), "peak learning rate")(
      "schedule", po::value(&c.schedule)->default_value(c.schedule), "inverse_sqrt | constant")(
      "warmup-steps", po::value(&c.warmup_steps)->default_value(c.warmup_steps),
      "linear warm-up steps")(
      "cooldown-steps", po::value(&c.cooldown_steps)->default_value(c.cooldown_steps),
      "scale the learning rate down linearly over the last N steps of the budget (--max-steps, or "
      "the steps --max-minutes leaves at the pace so far, fewer if the pace drops; 0=off)")(
      "weight-decay", real_value(&c.weight_decay), "AdamW weight decay")(
      "clip-norm", real_value(&c.clip_norm), "gradient clipping (0=off)")(
      "beta2", real_value(&c.adam_beta2), "Adam beta2")(
      "epochs", po::value(&c.max_epochs)->default_value(c.max_epochs), "maximum epochs")(
      "max-steps", po::value(&c.max_steps)->default_value(c.max_steps), "maximum steps (0=none)")(
      "max-minutes", real_value(&c.max_minutes), "wall-time budget in minutes (0=none)")(
      "patience", po::value(&c.patience)->default_value(c.patience),
      "evaluations without validation NDCG@10 gain before stopping")(
      "eval-every", po::value(&c.eval_every)->default_value(c.eval_every),
      "epochs between validations")("eval-users",
                                    po::value(&c.eval_users)->default_value(c.eval_users),
                                    "validation users for early stopping (0=all)")(
      "length-groups", po::value(&c.length_groups)->default_value(c.length_groups),
      "each batch is cut into this many length-sorted groups, each padded to its own longest "
      "sample (same gradient, less padding; 1=pad the whole batch)")(
      "log-interval", real_value(&c.log_interval_seconds), "seconds between progress lines")(
      "no-resume", po::bool_switch()->notifier([&c](bool v) { c.resume = !v; }),
      "start afresh even if --out holds a checkpoint (its checkpoint files are removed)");
}

std::vector<size_t> parse_ks(const std::string& text) {
  const auto ks = parse_int_list(text, "--ks", 1);
  return {ks.begin(), ks.end()};
}

// Help text of --precision in evaluate / recommend / serve, whose default is the checkpoint's.
constexpr const char* kAsTrained = "as trained";

// `precision_default`: how the help shows the default of --precision (train: the value itself).
void add_eval_options(po::options_description& desc, EvalConfig& c, std::string& ks,
                      const char* precision_default = nullptr) {
  desc.add_options()("beam", po::value(&c.beam_size)->default_value(c.beam_size),
                     "TIGER beam width (at least the largest K is used)")(
      "exclude-history", po::bool_switch(&c.exclude_history),
      "drop the user's history items from the ranking")(
      "ks", po::value(&ks)->default_value("5,10,20"), "cut-offs K")(
      "eval-batch", po::value(&c.batch_users)->default_value(c.batch_users), "users per batch")(
      "max-users", po::value(&c.max_users)->default_value(c.max_users),
      "evaluate an evenly spread subset of N users (0=all)")(
      "precision",
      precision_default ? po::value(&c.precision)->default_value(c.precision, precision_default)
                        : po::value(&c.precision)->default_value(c.precision),
      precision_default ? "fp32 | bf16 (matrix products in bfloat16); default: the precision the "
                          "checkpoint was trained in"
                        : "fp32 | bf16 (matrix products in bfloat16; training and decoding)");
}

std::optional<IdMap> load_map(const storage::Store& store, const std::string& name) {
  if (name.empty()) return std::nullopt;
  auto map = store.load_id_map(name);
  if (!map) throw_unknown_id_map(store, name);
  return map;
}

std::string metric_line(const seqrec::EvalResult& r) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(4) << r.split << " (" << r.users << " users";
  if (r.exclude_history) os << ", history excluded";
  os << ", " << r.precision << ")";
  for (const auto& k : seqrec::metric_order(r.metrics)) os << "  " << k << " " << r.metrics.at(k);
  return os.str();
}

int run_train(const std::vector<std::string>& args) {
  std::string store_path, map_name, out, report, ks;
  ModelConfig model;
  TrainConfig train;
  bool no_test = false;
  po::options_description desc("recsys train");
  desc.add_options()("store", po::value(&store_path)->required(), "store directory")(
      "map", po::value(&map_name), "semantic-ID map (required for tiger)")(
      "out", po::value(&out)->required(), "checkpoint directory")(
      "report", po::value(&report), "write <prefix>.json and <prefix>.md after training")(
      "no-test", po::bool_switch(&no_test), "skip the final validation/test evaluation");
  add_model_options(desc, model);
  add_train_options(desc, train);
  add_eval_options(desc, train.eval, ks);
  po::variables_map vm;
  if (!parse_options("usage: recsys train --store DIR --out CKPT_DIR [--model tiger --map NAME | "
                     "--model sasrec] [options]",
                     args, desc, vm))
    return 0;
  train.out_dir = out;
  train.precision = train.eval.precision;
  train.eval.ks = parse_ks(ks);
  model.validate();
  train.validate();
  RECSYS_CHECK(model.model != "tiger" || !map_name.empty(), "--model tiger needs --map NAME");
  RECSYS_CHECK(!no_test || report.empty(),
               "--report needs the final evaluation that --no-test skips (run recsys evaluate "
               "--report after training instead)");
  auto store = storage::Store::open(store_path);
  const Dataset dataset = store->load_dataset();
  auto map = load_map(*store, model.model == "tiger" ? map_name : "");
  seqrec::TrainResult result;
  int stop_signal = 0;
  {
    StopOnSignals signals;
    result =
        seqrec::train_recommender(dataset, map ? &*map : nullptr, model, train, signals.flag());
    stop_signal = signals.signal();
  }
  if (result.stop_reason == "interrupted") {
    std::cout << "interrupted after " << result.steps << " steps ("
              << format_duration(result.elapsed_seconds) << "); checkpoint " << out
              << ": run the same command to resume\n";
    return 128 + stop_signal;
  }
  std::cout << "trained " << model.model << " (" << result.num_parameters << " parameters) for "
            << result.steps << " steps in " << format_duration(result.elapsed_seconds)
            << ", stop: " << result.stop_reason << ", best validation NDCG@10 "
            << result.best_valid_ndcg10 << " (epoch " << result.best_epoch << "), checkpoint "
            << out << "\n";
  if (no_test) return 0;
  seqrec::EvalReport rep;
  rep.title = "recsys train: " + model.model + " on " + dataset.name;
  rep.dataset = dataset.name + " (" + store_path + ")";
  rep.model = model.model;
  rep.id_map = map ? map->name : "";
  rep.config = seqrec::to_config_map(model);
  for (const auto& [k, v] : seqrec::to_config_map(train)) rep.config[k] = v;
  rep.notes["training wall time (s)"] = std::to_string(result.elapsed_seconds);
  rep.notes["training samples/s"] = std::to_string(result.samples_per_second);
  rep.notes["steps"] = std::to_string(result.steps);
  rep.notes["stop reason"] = result.stop_reason;
  rep.notes["best epoch"] = std::to_string(result.best_epoch);
  rep.notes["threads"] = std::to_string(train.threads);
  for (auto split : {seqrec::Split::kValidation, seqrec::Split::kTest}) {
    rep.results.push_back(seqrec::evaluate(*result.model, dataset, split, train.eval));
    std::cout << metric_line(rep.results.back()) << "\n";
  }
  if (!report.empty()) rep.write(report);
  return 0;
}

// The settings of the checkpoints `dirs` (configs[i] is that of dirs[i]) in one report: those
// they share go to its config, and each that differs to a note per checkpoint ("config
// train.seed (DIR)"), so that no one checkpoint's settings pass for all of them.
void describe_configs(const std::vector<std::string>& dirs,
                      const std::vector<seqrec::ConfigMap>& configs, seqrec::EvalReport& rep) {
  rep.config.clear();
  std::set<std::string> keys;
  for (const auto& c : configs)
    for (const auto& [key, value] : c) keys.insert(key);
  for (const std::string& key : keys) {
    const auto value = [&](size_t i) -> std::string {
      auto found = configs[i].find(key);
      return found == configs[i].end() ? "(not set)" : found->second;
    };
    bool shared = true;
    for (size_t i = 1; i < configs.size() && shared; ++i) shared = value(i) == value(0);
    if (shared) {
      rep.config[key] = value(0);
    } else {
      for (size_t i = 0; i < configs.size(); ++i)
        rep.notes["config " + key + " (" + dirs[i] + ")"] = value(i);
    }
  }
}

// `values` without repeats, in first-seen order, comma-separated.
std::string join_distinct(const std::vector<std::string>& values) {
  std::vector<std::string> seen;
  for (const auto& v : values)
    if (!v.empty() && std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
  std::string out;
  for (const auto& v : seen) out += (out.empty() ? "" : ",") + v;
  return out;
}

// Checkpoints loaded to be used as one ensemble (evaluate --ensemble, recommend with several).
struct LoadedCheckpoints {
  std::vector<std::string> dirs;
  std::vector<seqrec::ConfigMap> configs;
  std::vector<CheckpointModel> loaded;        // the members point into these
  std::vector<seqrec::Recommender*> members;  // one per checkpoint, in order

  // The precision they decode in when --precision is not given: the one they were all trained in.
  std::string trained_precision() const {
    const std::string first = seqrec::trained_precision(configs.front());
    for (size_t i = 1; i < configs.size(); ++i) {
      const std::string p = seqrec::trained_precision(configs[i]);
      RECSYS_CHECK(p == first, "'", dirs.front(), "' was trained in ", first, ", '", dirs[i],
                   "' in ", p, ": give --precision for the ensemble");
    }
    return first;
  }
};

LoadedCheckpoints load_checkpoints(const storage::Store& store,
                                   const std::vector<std::string>& dirs, const std::string& device,
                                   seqrec::CheckpointWeights which) {
  LoadedCheckpoints out;
  out.dirs = dirs;
  for (const auto& dir : dirs) {
    out.configs.push_back(seqrec::read_checkpoint_config(dir));
    out.loaded.push_back(load_checkpoint(store, dir, out.configs.back(), device, which));
    out.members.push_back(out.loaded.back().model.get());
  }
  return out;
}

int run_evaluate(const std::vector<std::string>& args) {
  std::string store_path, split_name = "both", report, ranks_path, device = "cpu", ks,
                          weights = "best";
  std::vector<std::string> checkpoints;
  int threads = 2;
  bool ensemble = false;
  EvalConfig eval;
  po::options_description desc("recsys evaluate");
  desc.add_options()("store", po::value(&store_path)->required(), "store directory")(
      "checkpoint", po::value(&checkpoints)->multitoken()->required(),
      "checkpoint directory; several (e.g. one per seed) report mean and spread")(
      "ensemble", po::bool_switch(&ensemble),
      "evaluate the checkpoints as one model instead: items ranked by the models' mean "
      "probability (each contributes its top max(--beam, K) items; TIGER and SASRec may mix)")(
      "weights", po::value(&weights)->default_value(weights),
      "best (on validation) | last (the last checkpointed step)")(
      "split", po::value(&split_name)->default_value(split_name), "validation | test | both")(
      "device", po::value(&device)->default_value(device), "cpu | cuda | cuda:N")(
      "threads", po::value(&threads)->default_value(threads), "LibTorch intra-op threads")(
      "report", po::value(&report), "write <prefix>.json and <prefix>.md")(
      "ranks", po::value(&ranks_path),
      "write every user's target rank to this TSV (checkpoint, split, user, target, rank: "
      "1-based, empty when not in the top max(--ks))");
  add_eval_options(desc, eval, ks, kAsTrained);
  po::variables_map vm;
  if (!parse_options("usage: recsys evaluate --store DIR --checkpoint CKPT_DIR... [options]", args,
                     desc, vm))
    return 0;
  const bool precision_given = !vm["precision"].defaulted();
  eval.ks = parse_ks(ks);
  eval.validate();
  std::vector<seqrec::Split> splits;
  if (split_name == "validation" || split_name == "both")
    splits.push_back(seqrec::Split::kValidation);
  if (split_name == "test" || split_name == "both") splits.push_back(seqrec::Split::kTest);
  RECSYS_CHECK(!splits.empty(), "--split must be validation, test or both");
  const auto which = seqrec::parse_checkpoint_weights(weights);
  seqrec::set_num_threads(threads);
  auto store = storage::Store::open(store_path);
  const Dataset dataset = store->load_dataset();
  std::ofstream ranks_out;
  if (!ranks_path.empty()) {
    ranks_out.open(ranks_path, std::ios::trunc);
    if (!ranks_out) RECSYS_THROW(ErrorCode::kIOError, "cannot write '", ranks_path, "'");
    ranks_out << "checkpoint\tsplit\tuser\ttarget\trank\n";
  }
  seqrec::EvalReport rep;
  rep.dataset = dataset.name + " (" + store_path + ")";
  // How much training a checkpoint's weights had, as `train` reports it (one set of notes per
  // checkpoint when there are several).
  auto add_training_notes = [&](const std::string& ckpt) {
    const seqrec::ConfigMap state = seqrec::read_checkpoint_state(ckpt);
    const std::string tag = checkpoints.size() > 1 ? " (" + ckpt + ")" : "";
    if (checkpoints.size() == 1) rep.notes["checkpoint"] = ckpt;  // several: named per result
    for (const auto& [key, note] : std::vector<std::pair<std::string, std::string>>{
             {"step", "steps"},
             {"epoch", "epochs"},
             {"elapsed_seconds", "training wall time (s)"},
             {"best_epoch", "best epoch"},
             {"stop_reason", "stop reason"}}) {
      auto found = state.find(key);
      if (found == state.end()) continue;
      rep.notes[note + tag] =
          key == "elapsed_seconds" ? format_fixed(std::stod(found->second), 1) : found->second;
    }
    if (state.count("finished") && state.at("finished") != "1") {
      const std::string reason = state.count("stop_reason") ? state.at("stop_reason") : "";
      rep.notes["stop reason" + tag] = (reason.empty() ? "" : reason + ", ") +
                                       "not finished (train again with the same --out to resume)";
    }
  };
  std::map<std::string, std::vector<double>> per_metric;  // split/metric -> values per checkpoint
  // Evaluates one model (a checkpoint, or the ensemble named `label`) on every split.
  auto evaluate_model = [&](seqrec::Recommender& model, const std::string& label,
                            const EvalConfig& model_eval, bool several) {
    for (auto split : splits) {
      auto r = seqrec::evaluate(model, dataset, split, model_eval);
      std::cout << label << "  " << metric_line(r) << "\n";
      for (const auto& [k, v] : r.metrics) per_metric[r.split + " " + k].push_back(v);
      for (const auto& u : r.ranks) {
        ranks_out << label << '\t' << r.split << '\t' << dataset.users[u.user].external_id << '\t'
                  << dataset.items[u.target].external_id << '\t';
        if (u.rank >= 0) ranks_out << u.rank + 1;
        ranks_out << '\n';
      }
      r.ranks.clear();  // the report keeps the aggregates only
      if (several) r.checkpoint = label;
      rep.results.push_back(std::move(r));
    }
  };
  if (ensemble) {
    const LoadedCheckpoints set = load_checkpoints(*store, checkpoints, device, which);
    std::vector<std::string> maps;
    std::string label;
    for (size_t i = 0; i < checkpoints.size(); ++i) {
      if (const IdMap* map = set.loaded[i].map.get()) maps.push_back(map->name);
      label += (label.empty() ? "" : "+") + checkpoints[i];
      add_training_notes(checkpoints[i]);
    }
    seqrec::EnsembleRecommender model(set.members);
    EvalConfig ensemble_eval = eval;
    if (!precision_given) ensemble_eval.precision = set.trained_precision();
    rep.model = model.name();
    rep.id_map = join_distinct(maps);
    rep.title = "recsys evaluate: " + model.name() + " on " + dataset.name;
    describe_configs(checkpoints, set.configs, rep);
    rep.notes["ensemble"] = "items ranked by the mean probability of the " +
                            std::to_string(checkpoints.size()) + " checkpoints: " + label;
    evaluate_model(model, label, ensemble_eval, false);
  } else {
    std::vector<seqrec::ConfigMap> configs;
    std::vector<std::string> models, maps;
    for (const auto& ckpt : checkpoints) {
      configs.push_back(seqrec::read_checkpoint_config(ckpt));
      const CheckpointModel loaded = load_checkpoint(*store, ckpt, configs.back(), device, which);
      EvalConfig ckpt_eval = eval;
      if (!precision_given) ckpt_eval.precision = seqrec::trained_precision(configs.back());
      models.push_back(loaded.model->name());
      if (loaded.map) maps.push_back(loaded.map->name);
      add_training_notes(ckpt);
      evaluate_model(*loaded.model, ckpt, ckpt_eval, checkpoints.size() > 1);
    }
    rep.model = join_distinct(models);
    rep.id_map = join_distinct(maps);
    rep.title = "recsys evaluate: " + rep.model + " on " + dataset.name;
    describe_configs(checkpoints, configs, rep);
  }
  rep.notes["checkpoints"] = std::to_string(checkpoints.size());
  rep.notes["weights"] = weights;
  if (checkpoints.size() > 1 && !ensemble) {
    std::cout << "mean +- std over " << checkpoints.size() << " checkpoints:\n";
    for (const auto& [k, values] : per_metric) {
      double mean = 0, var = 0;
      for (double v : values) mean += v;
      mean /= values.size();
      for (double v : values) var += (v - mean) * (v - mean);
      const double sd = std::sqrt(var / (values.size() - 1));
      const std::string text = format_fixed(mean, 4) + " +- " + format_fixed(sd, 4);
      std::cout << "  " << k << "  " << text << "\n";
      rep.notes["mean+-std " + k] = text;
    }
  }
  if (ranks_out.is_open()) {
    ranks_out.close();
    if (!ranks_out) RECSYS_THROW(ErrorCode::kIOError, "writing '", ranks_path, "' failed");
  }
  if (!report.empty()) rep.write(report);
  return 0;
}

int run_recommend(const std::vector<std::string>& args) {
  std::string store_path, user, history, device = "cpu", precision = "fp32", weights = "best";
  std::vector<std::string> checkpoints;
  int64_t k = 10, beam = 20;
  bool exclude = false;
  po::options_description desc("recsys recommend");
  desc.add_options()("store", po::value(&store_path)->required(), "store directory")(
      "checkpoint", po::value(&checkpoints)->multitoken()->required(),
      "checkpoint directory; several are one model, ranking items by their mean probability (see "
      "evaluate --ensemble)")("weights", po::value(&weights)->default_value(weights),
                              "best (on validation) | last (the last checkpointed step)")(
      "user", po::value(&user), "user external id: recommend after the whole history")(
      "history", po::value(&history),
      "comma-separated item external ids (ASINs), oldest first (a TIGER with hashed user tokens "
      "reads it with user 0's token; one trained with --tiger.user-tokens 0 has none)")(
      "k", po::value(&k)->default_value(k), "how many items")(
      "beam", po::value(&beam)->default_value(beam), "TIGER beam width (at least --k is used)")(
      "exclude-history", po::bool_switch(&exclude), "never recommend history items")(
      "device", po::value(&device)->default_value(device), "cpu | cuda | cuda:N")(
      "precision", po::value(&precision)->default_value(precision, kAsTrained),
      "fp32 | bf16; default: the precision the checkpoint was trained in");
  po::variables_map vm;
  if (!parse_options("usage: recsys recommend --store DIR --checkpoint CKPT_DIR (--user ID | "
                     "--history ASIN,...) [--k 10]",
                     args, desc, vm))
    return 0;
  RECSYS_CHECK(vm.count("user") + vm.count("history") == 1,
               "give exactly one of --user, --history");
  RECSYS_CHECK(k >= 1, "--k must be at least 1, got ", k);
  RECSYS_CHECK(beam >= 1, "--beam must be at least 1, got ", beam);
  const auto which = seqrec::parse_checkpoint_weights(weights);
  auto store = storage::Store::open(store_path);
  const LoadedCheckpoints set = load_checkpoints(*store, checkpoints, device, which);
  std::unique_ptr<seqrec::EnsembleRecommender> ensemble;
  if (set.members.size() > 1) ensemble = std::make_unique<seqrec::EnsembleRecommender>(set.members);
  seqrec::Recommender* model = ensemble ? ensemble.get() : set.members.front();
  seqrec::Query query;
  if (vm.count("user")) {
    auto idx = store->find_user(user);
    if (!idx) RECSYS_THROW(ErrorCode::kNotFound, "no user '", user, "' in ", store_path);
    query.user = *idx;
    query.history = store->get_user(*idx)->items;
  } else {
    std::vector<std::string> keys;
    std::stringstream in(history);
    std::string part;
    while (std::getline(in, part, ',')) {
      part = trim(part);  // "A, B" names A and B
      if (!part.empty()) keys.push_back(part);
    }
    RECSYS_CHECK(!keys.empty(), "--history is empty");
    auto found = store->get_items_by_key(keys);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (!found[i]) RECSYS_THROW(ErrorCode::kNotFound, "no item '", keys[i], "' in ", store_path);
      query.history.push_back(found[i]->first);
    }
  }
  seqrec::RecommendOptions options;
  options.top_k = static_cast<size_t>(k);
  options.beam_size = beam;
  options.exclude_history = exclude;
  options.precision = vm["precision"].defaulted() ? set.trained_precision() : precision;
  auto recs = model->recommend({query}, options);
  std::cout << model->name() << " recommendations after " << query.history.size()
            << " history items:\n";
  size_t rank = 1;
  for (const auto& r : recs[0]) {
    auto rec = store->get_item(r.item);
    std::cout << std::setw(3) << rank++ << "  " << (rec ? rec->external_id : "?") << "  "
              << std::fixed << std::setprecision(4) << r.score << "  "
              << (rec ? rec->title : std::string()) << "\n";
  }
  return 0;
}

}  // namespace

void register_train_commands(CommandRegistry& registry) {
  registry.add({"train", "train a sequential recommender (tiger | sasrec) on a store", run_train});
  registry.add({"evaluate", "Recall/NDCG@K of trained checkpoints (full ranking)", run_evaluate});
  registry.add({"recommend", "next items for a user or a history, with titles", run_recommend});
}

}  // namespace recsys::cli
