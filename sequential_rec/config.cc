#include "sequential_rec/config.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "recsys/error.h"
#include "recsys/strings.h"

namespace recsys::seqrec {

void ModelConfig::validate() const {
  RECSYS_CHECK(model == "tiger" || model == "sasrec", "unknown model '", model,
               "' (valid: sasrec, tiger)");
  const auto& t = tiger;
  RECSYS_CHECK(t.d_model > 0 && t.num_heads > 0 && t.head_dim > 0 && t.d_ff > 0 &&
                   t.encoder_layers >= 0 && t.decoder_layers > 0 && t.max_items > 0 &&
                   t.num_user_tokens >= 0,
               "TIGER sizes must be positive");
  RECSYS_CHECK(t.dropout >= 0 && t.dropout < 1, "dropout must be in [0, 1)");
  RECSYS_CHECK(t.encoder_input == "tokens" || t.encoder_input == "items", "unknown encoder input '",
               t.encoder_input, "' (valid: items, tokens)");
  const auto& s = sasrec;
  RECSYS_CHECK(s.d_model > 0 && s.num_heads > 0 && s.d_model % s.num_heads == 0 &&
                   s.num_blocks >= 0 && s.max_len > 0,
               "SASRec: d_model must be a positive multiple of num_heads, max_len positive");
  RECSYS_CHECK(s.dropout >= 0 && s.dropout < 1, "dropout must be in [0, 1)");
}

void check_precision(const std::string& precision) {
  if (precision != "fp32" && precision != "bf16") {
    RECSYS_THROW(ErrorCode::kInvalidArgument, "unknown precision '", precision,
                 "' (valid: bf16, fp32)");
  }
}

void EvalConfig::validate() const {
  RECSYS_CHECK(!ks.empty(), "at least one cut-off K is needed");
  for (size_t k : ks) RECSYS_CHECK(k > 0, "cut-offs must be positive");
  RECSYS_CHECK(beam_size > 0, "beam size must be positive");
  RECSYS_CHECK(batch_users > 0, "batch_users must be positive");
  RECSYS_CHECK(max_users >= 0, "max_users must be >= 0");
  check_precision(precision);
}

void TrainConfig::validate() const {
  RECSYS_CHECK(threads > 0, "threads must be positive");
  check_precision(precision);
  RECSYS_CHECK(batch_size > 0, "batch size must be positive");
  RECSYS_CHECK(lr > 0 && std::isfinite(lr), "learning rate must be positive, got ", lr);
  RECSYS_CHECK(adam_beta2 >= 0 && adam_beta2 < 1, "Adam beta2 must be in [0, 1), got ", adam_beta2);
  RECSYS_CHECK(weight_decay >= 0 && std::isfinite(weight_decay),
               "weight decay must be non-negative, got ", weight_decay);
  RECSYS_CHECK(clip_norm >= 0 && std::isfinite(clip_norm),
               "gradient clipping norm must be non-negative (0 = off), got ", clip_norm);
  RECSYS_CHECK(log_interval_seconds > 0, "progress log interval must be positive, got ",
               log_interval_seconds);
  RECSYS_CHECK(schedule == "inverse_sqrt" || schedule == "constant", "unknown schedule '", schedule,
               "' (valid: constant, inverse_sqrt)");
  RECSYS_CHECK(warmup_steps >= 0 && max_epochs > 0 && max_steps >= 0 && max_minutes >= 0,
               "warmup, epochs, steps and minutes must be non-negative");
  RECSYS_CHECK(patience > 0 && eval_every > 0 && eval_users >= 0 && length_groups > 0,
               "patience, eval_every, length_groups must be positive");
  RECSYS_CHECK(cooldown_steps >= 0, "cooldown steps must be non-negative, got ", cooldown_steps);
  RECSYS_CHECK(cooldown_steps == 0 || max_steps > 0 || max_minutes > 0, "a cooldown of ",
               cooldown_steps, " steps needs a budget to end at (max_steps or max_minutes)");
  RECSYS_CHECK(cooldown_steps == 0 || max_steps == 0 || cooldown_steps <= max_steps,
               "a cooldown of ", cooldown_steps, " steps is longer than the step budget (",
               max_steps, ")");
  eval.validate();
}

namespace {
// The cooldown in effect: the planned one, or the plain one before max_steps, whichever ends first.
Cooldown effective_cooldown(const TrainConfig& c, const Cooldown& planned) {
  Cooldown k = planned;
  if (c.max_steps > 0 && (k.end == 0 || c.max_steps < k.end)) k = {c.max_steps, 0, 1.0};
  if (k.end > 0 && k.from == 0) k = {k.end, k.end - c.cooldown_steps + 1, 1.0};
  return k;
}

// The cooldown's factor on the rate of `step` (1 outside it).
double cooldown_factor(const TrainConfig& c, int64_t step, const Cooldown& k) {
  if (c.cooldown_steps == 0 || k.end == 0 || step < k.from) return 1.0;
  const int64_t left = std::max<int64_t>(k.end - step + 1, 1);  // steps left, this one included
  return k.factor * static_cast<double>(left) / static_cast<double>(k.end - k.from + 1);
}
}  // namespace

double learning_rate(const TrainConfig& c, int64_t step, const Cooldown& planned) {
  double lr;
  if (c.schedule == "constant") {
    lr = c.warmup_steps > 0 && step < c.warmup_steps ? c.lr * step / c.warmup_steps : c.lr;
  } else {
    const double w = static_cast<double>(std::max<int64_t>(c.warmup_steps, 1));
    const double s = static_cast<double>(step);
    lr = c.lr * std::min(s / w, std::sqrt(w / s));
  }
  return lr * cooldown_factor(c, step, effective_cooldown(c, planned));
}

Cooldown plan_cooldown(const TrainConfig& c, const Cooldown& current, int64_t step,
                       double seconds_left, double seconds_per_step) {
  if (c.cooldown_steps == 0 || c.max_minutes <= 0 || seconds_per_step <= 0) return current;
  const double fits = std::max(seconds_left, 0.0) / seconds_per_step;  // steps the time left covers
  const auto slack = [](int64_t left) { return std::max<int64_t>(10, left / 20); };
  const int64_t next = step + 1;
  const int64_t short_end = step + std::max<int64_t>(static_cast<int64_t>(fits), 1);
  if (current.end == 0) {
    if (fits > static_cast<double>(c.cooldown_steps)) return current;
    if (fits >= static_cast<double>(c.cooldown_steps - slack(c.cooldown_steps)))
      return {step + c.cooldown_steps, 0, 1.0};
    return {short_end, next, 1.0};  // begins short: from the full rate to what the time covers
  }
  const Cooldown k = effective_cooldown(c, current);
  const int64_t left = k.end - step;
  if (left <= 0 || fits >= static_cast<double>(left - slack(left))) return current;
  // The next step keeps the rate it would have had; the fall to the new end is steeper.
  return {short_end, next, cooldown_factor(c, next, k)};
}

namespace {
std::string num(double v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}
int64_t get_int(const ConfigMap& m, const std::string& key, int64_t fallback) {
  auto it = m.find(key);
  if (it == m.end()) return fallback;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    RECSYS_THROW(ErrorCode::kCorruption, "config key '", key, "' is not an integer: '", it->second,
                 "'");
  }
}
double get_double(const ConfigMap& m, const std::string& key, double fallback) {
  auto it = m.find(key);
  if (it == m.end()) return fallback;
  try {
    return std::stod(it->second);
  } catch (const std::exception&) {
    RECSYS_THROW(ErrorCode::kCorruption, "config key '", key, "' is not a number: '", it->second,
                 "'");
  }
}
}  // namespace

ConfigMap to_config_map(const ModelConfig& c) {
  ConfigMap m;
  m["model"] = c.model;
  if (c.model == "tiger") {
    const auto& t = c.tiger;
    m["tiger.num_user_tokens"] = std::to_string(t.num_user_tokens);
    m["tiger.max_items"] = std::to_string(t.max_items);
    m["tiger.d_model"] = std::to_string(t.d_model);
    m["tiger.num_heads"] = std::to_string(t.num_heads);
    m["tiger.head_dim"] = std::to_string(t.head_dim);
    m["tiger.d_ff"] = std::to_string(t.d_ff);
    m["tiger.encoder_layers"] = std::to_string(t.encoder_layers);
    m["tiger.decoder_layers"] = std::to_string(t.decoder_layers);
    m["tiger.dropout"] = num(t.dropout);
    m["tiger.encoder_input"] = t.encoder_input;
    m["tiger.item_ids"] = t.item_ids ? "1" : "0";
  } else {
    const auto& s = c.sasrec;
    m["sasrec.d_model"] = std::to_string(s.d_model);
    m["sasrec.num_blocks"] = std::to_string(s.num_blocks);
    m["sasrec.num_heads"] = std::to_string(s.num_heads);
    m["sasrec.max_len"] = std::to_string(s.max_len);
    m["sasrec.dropout"] = num(s.dropout);
  }
  return m;
}

ModelConfig model_config_from_map(const ConfigMap& m) {
  ModelConfig c;
  auto it = m.find("model");
  RECSYS_CHECK(it != m.end(), "config has no 'model' key");
  c.model = it->second;
  auto& t = c.tiger;
  t.num_user_tokens = get_int(m, "tiger.num_user_tokens", t.num_user_tokens);
  t.max_items = get_int(m, "tiger.max_items", t.max_items);
  t.d_model = get_int(m, "tiger.d_model", t.d_model);
  t.num_heads = get_int(m, "tiger.num_heads", t.num_heads);
  t.head_dim = get_int(m, "tiger.head_dim", t.head_dim);
  t.d_ff = get_int(m, "tiger.d_ff", t.d_ff);
  t.encoder_layers = get_int(m, "tiger.encoder_layers", t.encoder_layers);
  t.decoder_layers = get_int(m, "tiger.decoder_layers", t.decoder_layers);
  t.dropout = get_double(m, "tiger.dropout", t.dropout);
  if (auto e = m.find("tiger.encoder_input"); e != m.end()) t.encoder_input = e->second;
  t.item_ids = get_int(m, "tiger.item_ids", 0) != 0;  // absent before this option existed
  auto& s = c.sasrec;
  s.d_model = get_int(m, "sasrec.d_model", s.d_model);
  s.num_blocks = get_int(m, "sasrec.num_blocks", s.num_blocks);
  s.num_heads = get_int(m, "sasrec.num_heads", s.num_heads);
  s.max_len = get_int(m, "sasrec.max_len", s.max_len);
  s.dropout = get_double(m, "sasrec.dropout", s.dropout);
  c.validate();
  return c;
}

ConfigMap to_config_map(const TrainConfig& c) {
  ConfigMap m;
  m["train.device"] = c.device;
  m["train.precision"] = c.precision;
  m["train.threads"] = std::to_string(c.threads);
  m["train.seed"] = std::to_string(c.seed);
  m["train.batch_size"] = std::to_string(c.batch_size);
  m["train.lr"] = num(c.lr);
  m["train.schedule"] = c.schedule;
  m["train.warmup_steps"] = std::to_string(c.warmup_steps);
  m["train.cooldown_steps"] = std::to_string(c.cooldown_steps);
  m["train.weight_decay"] = num(c.weight_decay);
  m["train.clip_norm"] = num(c.clip_norm);
  m["train.adam_beta2"] = num(c.adam_beta2);
  m["train.max_epochs"] = std::to_string(c.max_epochs);
  m["train.max_steps"] = std::to_string(c.max_steps);
  m["train.max_minutes"] = num(c.max_minutes);
  m["train.patience"] = std::to_string(c.patience);
  m["train.eval_every"] = std::to_string(c.eval_every);
  m["train.eval_users"] = std::to_string(c.eval_users);
  m["train.length_groups"] = std::to_string(c.length_groups);
  m["train.eval_beam_size"] = std::to_string(c.eval.beam_size);
  m["train.eval_exclude_history"] = c.eval.exclude_history ? "true" : "false";
  return m;
}

std::string write_config_lines(const ConfigMap& map) {
  std::ostringstream os;
  for (const auto& [k, v] : map) os << k << " = " << v << "\n";
  return os.str();
}

ConfigMap read_config_lines(const std::string& text, const std::string& source) {
  ConfigMap m;
  std::istringstream in(text);
  std::string line;
  size_t no = 0;
  while (std::getline(in, line)) {
    ++no;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      RECSYS_THROW(ErrorCode::kCorruption, source, ":", no, ": expected 'key = value', got '", line,
                   "'");
    }
    m[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return m;
}

}  // namespace recsys::seqrec
