#include "indexer/lm_indexer_trainer.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <type_traits>

#include "indexer/internal/lm_indexer_fields.h"
#include "indexer/kmeans.h"
#include "indexer/matrix.h"
#include "indexer/word_embeddings.h"
#include "recsys/error.h"
#include "recsys/hash.h"
#include "recsys/logging.h"
#include "recsys/progress.h"

namespace recsys::indexer {
namespace {

// An exception's message without a C++ backtrace (c10::Error) or the TorchScript traceback before
// the error itself (the interpreter's JITException, which is no c10::Error).
std::string error_text(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e))
    return c10_error->what_without_backtrace();
  std::string text(e.what());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  const size_t nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

using Clock = std::chrono::steady_clock;

uint64_t epoch_seed(uint64_t seed, int64_t position, LMIndexerPhase phase, int64_t epoch) {
  uint64_t h = splitmix64(seed);
  h = splitmix64(h ^ uint64_t(position));
  h = splitmix64(h ^ uint64_t(phase));
  return splitmix64(h ^ uint64_t(epoch));
}

uint64_t fingerprint(const std::vector<std::string>& texts) {
  uint64_t h = kFnv1aBasis;  // over the texts and their separators
  for (const auto& t : texts) {
    for (unsigned char c : t) h = fnv1a_step(h, c);
    h = fnv1a_step(h, 0xffu);
  }
  return h ^ texts.size();
}

uint64_t fnv1a(const std::string& bytes) {
  uint64_t h = kFnv1aBasis;
  for (unsigned char c : bytes) h = fnv1a_step(h, c);
  return h;
}

// The GloVe word a SentencePiece piece stands for: without the word-start mark U+2581,
// lower-cased (ASCII). "" for the bare mark.
std::string piece_word(std::string piece) {
  static const std::string kMark = "\xE2\x96\x81";
  if (piece.rfind(kMark, 0) == 0) piece.erase(0, kMark.size());
  for (char& c : piece) c = char(std::tolower(static_cast<unsigned char>(c)));
  return piece;
}

const char* phase_name(LMIndexerPhase p) {
  return p == LMIndexerPhase::kWarmup ? "warmup" : "joint";
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Rows [B, T] of tokens and padding, trimmed to the longest text of the batch.
struct Batch {
  torch::Tensor tokens, padding;
};
Batch take(const torch::Tensor& tokens, const torch::Tensor& padding, const torch::Tensor& idx) {
  Batch b{tokens.index_select(0, idx), padding.index_select(0, idx)};
  const int64_t len = std::max<int64_t>(1, (~b.padding).sum(1).max().item<int64_t>());
  b.tokens = b.tokens.slice(1, 0, len).contiguous();
  b.padding = b.padding.slice(1, 0, len).contiguous();
  return b;
}

torch::Tensor index_tensor(const std::vector<int64_t>& v) { return torch::tensor(v, torch::kLong); }

}  // namespace

LMIndexerTrainer::LMIndexerTrainer(const std::vector<std::string>& texts, LMIndexerOptions options)
    : options_(std::move(options)) {
  options_.validate();
  RECSYS_CHECK(!texts.empty(), "lmindexer: no items to index");
  RECSYS_CHECK(texts.size() >= options_.codebook_size, "lmindexer: codebook_size ",
               options_.codebook_size, " exceeds the number of items ", texts.size());
  if (options_.threads > 0) torch::set_num_threads(options_.threads);
  if (!options_.tokenizer_model.empty()) {
    tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::load(options_.tokenizer_model));
  } else {
    TokenizerOptions to;
    to.vocab_size = int(options_.tokenizer_vocab);
    to.model_type = options_.tokenizer_type;
    to.num_threads = std::max(1, options_.threads);
    tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::train(texts, to));
  }
  tokenize(texts, tokens_, padding_);
  text_fingerprint_ = fingerprint(texts);
  codes_ = torch::full({int64_t(texts.size()), int64_t(options_.id_length)}, -1, torch::kLong);
  std::optional<torch::jit::Module> script;
  if (!options_.encoder_script.empty()) script = load_script();
  torch::manual_seed(options_.seed);
  build_model(std::move(script));
  if (!options_.glove_path.empty()) init_from_glove();
}

torch::jit::Module LMIndexerTrainer::load_script() {
  const std::string& path = options_.encoder_script;
  std::ifstream in(path, std::ios::binary);
  if (!in) RECSYS_THROW(ErrorCode::kNotFound, "cannot open TorchScript encoder '", path, "'");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  script_hash_ = fnv1a(bytes.str());
  torch::jit::Module script;
  try {
    std::istringstream stream(bytes.str());
    script = torch::jit::load(stream);
  } catch (const c10::Error& e) {
    RECSYS_THROW(ErrorCode::kInvalidArgument, "'", path,
                 "' is not a loadable TorchScript module: ", e.what_without_backtrace());
  }
  // Probe the contract on the first item: forward(ids [1, T] int64, mask [1, T] bool) -> [1, T, H].
  torch::NoGradGuard no_grad;
  script.eval();
  torch::Tensor h;
  try {
    const auto ids = tokens_.slice(0, 0, 1);
    h = script.forward({ids, padding_.slice(0, 0, 1).logical_not()}).toTensor();
  } catch (const std::exception& e) {  // c10::Error, or the interpreter's JITException
    RECSYS_THROW(ErrorCode::kInvalidArgument, "TorchScript encoder '", path,
                 "' failed on forward(ids int64 [B, T], mask bool [B, T]): ", error_text(e));
  }
  RECSYS_CHECK(
      h.dim() == 3 && h.size(0) == 1 && h.size(1) == tokens_.size(1) && h.is_floating_point(),
      "TorchScript encoder '", path, "' must return float [B, T, H]; got ", h.sizes());
  // Item 0 may use only small ids: the tokenizer's largest must also be in the script's table.
  const int64_t top = tokenizer_->vocab_size() - 1;
  try {
    script.forward({torch::full({1, 2}, top, torch::kLong), torch::ones({1, 2}, torch::kBool)});
  } catch (const std::exception& e) {
    RECSYS_THROW(ErrorCode::kInvalidArgument, "TorchScript encoder '", path, "' fails on id ", top,
                 " of the ", top + 1,
                 "-piece tokenizer (its vocabulary is smaller?): pass the encoder's own "
                 "SentencePiece model as --lm-tokenizer-model (",
                 error_text(e), ")");
  }
  if (options_.tokenizer_model.empty())
    RECSYS_LOG(Warning) << "lmindexer: the TorchScript encoder reads ids of a tokenizer trained "
                           "here on the item texts; a pretrained encoder needs its own "
                           "(--lm-tokenizer-model)";
  script_hidden_ = h.size(2);
  RECSYS_LOG(Info) << "lmindexer: TorchScript text encoder " << path << " (H = " << script_hidden_
                   << ", " << script.parameters().size() << " parameter tensors, "
                   << (options_.freeze_encoder_script ? "frozen" : "fine-tuned") << ")";
  return script;
}

void LMIndexerTrainer::init_from_glove() {
  const WordEmbeddings vectors = WordEmbeddings::load(options_.glove_path, options_.glove_cache);
  const int64_t V = tokenizer_->vocab_size(), d = options_.d_model, g = vectors.dims();
  std::vector<int64_t> rows;
  std::vector<float> values;
  for (int id = 0; id < V; ++id) {
    if (id == tokenizer_->pad_id()) continue;
    const std::string word = piece_word(tokenizer_->piece(id));
    if (word.empty()) continue;
    if (const float* v = vectors.find(word)) {
      rows.push_back(id);
      values.insert(values.end(), v, v + g);
    }
  }
  glove_matched_ = rows.size();
  RECSYS_LOG(Info) << "lmindexer: GloVe init: " << rows.size() << " of " << V
                   << " pieces matched words of " << options_.glove_path << " (" << g << " -> " << d
                   << " dims)";
  if (rows.empty()) return;
  auto x = torch::from_blob(values.data(), {int64_t(rows.size()), g}, torch::kFloat).clone();
  if (g != d) {
    // Fixed seeded random orthogonal map: Q of a Gaussian matrix, an isometry for d >= g and an
    // orthogonal projection for d < g.
    std::mt19937_64 rng(splitmix64(options_.seed ^ 0x676c6f7665ULL));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const int64_t big = std::max(g, d), small = std::min(g, d);
    std::vector<float> gauss(size_t(big * small));
    for (auto& v : gauss) v = normal(rng);
    const auto a = torch::from_blob(gauss.data(), {big, small}, torch::kFloat);
    const auto q = std::get<0>(torch::linalg_qr(a, "reduced"));  // [big, small]
    x = torch::matmul(x, g > d ? q : q.t());                     // [n, d]
  }
  const auto idx = torch::tensor(rows, torch::kLong);
  torch::NoGradGuard no_grad;
  auto set_rows = [&](torch::Tensor weight) {
    if (!weight.defined()) return;
    // Scale to the embedding's initial std (padding row excluded).
    auto keep = torch::ones({weight.size(0)}, torch::kBool);
    if (tokenizer_->pad_id() >= 0) keep[tokenizer_->pad_id()] = false;
    const double target = weight.index({keep}).std().item<double>();
    const double have = x.std().item<double>();
    weight.index_copy_(0, idx, x * float(target / std::max(have, 1e-12)));
  };
  set_rows(model_->encoder->token_embedding_weight());
  set_rows(model_->reconstructor->token_embedding_weight());
}

void LMIndexerTrainer::build_model(std::optional<torch::jit::Module> script) {
  const int pad = tokenizer_->pad_id() >= 0 ? tokenizer_->pad_id() : 0;
  LMIndexerModelOptions mo(tokenizer_->vocab_size(), pad);
  mo.d_model(options_.d_model)
      .nhead(options_.heads)
      .encoder_layers(options_.encoder_layers)
      .decoder_layers(options_.decoder_layers)
      .reconstructor_layers(options_.reconstructor_layers)
      .dim_feedforward(options_.feedforward)
      .dropout(options_.dropout)
      .max_text_length(options_.max_text_length)
      .id_length(options_.id_length)
      .codebook_size(options_.codebook_size)
      .script_hidden(script ? script_hidden_ : 0);
  model_ = LMIndexerModel(mo);
  if (script) model_->encoder->attach_script(std::move(*script), options_.freeze_encoder_script);
}

void LMIndexerTrainer::tokenize(const std::vector<std::string>& texts, torch::Tensor& tokens,
                                torch::Tensor& padding) const {
  const int64_t N = int64_t(texts.size()), T = options_.max_text_length;
  const int64_t pad = tokenizer_->pad_id() >= 0 ? tokenizer_->pad_id() : 0;
  tokens = torch::full({N, T}, pad, torch::kLong);
  padding = torch::ones({N, T}, torch::kBool);
  auto tok = tokens.accessor<int64_t, 2>();
  auto pm = padding.accessor<bool, 2>();
  for (int64_t i = 0; i < N; ++i) {
    std::vector<int> ids = tokenizer_->encode(texts[i]);
    if (ids.empty()) ids.push_back(tokenizer_->unk_id() >= 0 ? tokenizer_->unk_id() : 0);
    const int64_t n = std::min<int64_t>(T, int64_t(ids.size()));
    for (int64_t j = 0; j < n; ++j) {
      tok[i][j] = ids[j];
      pm[i][j] = false;
    }
  }
}

std::vector<torch::Tensor> LMIndexerTrainer::phase_parameters(int64_t position,
                                                              LMIndexerPhase phase) {
  std::vector<torch::Tensor> params = model_->reconstructor->parameters();
  const bool text_encoder_frozen =
      options_.freeze_encoder_after > 0 && position >= int64_t(options_.freeze_encoder_after);
  if (phase == LMIndexerPhase::kJoint || options_.warmup_encoder) {
    const auto network = text_encoder_frozen ? model_->encoder->decoder_parameters()
                                             : model_->encoder->network_parameters();
    for (auto& p : network) params.push_back(p);
  }
  if (phase == LMIndexerPhase::kJoint) params.push_back(model_->encoder->codebook(position));
  return params;
}

void LMIndexerTrainer::make_optimizer(int64_t position, LMIndexerPhase phase) {
  auto params = phase_parameters(position, phase);
  for (auto& p : model_->parameters()) p.set_requires_grad(false);
  if (auto* script = model_->encoder->script())
    for (auto p : script->parameters()) p.set_requires_grad(false);
  for (auto& p : params) p.set_requires_grad(true);
  optimizer_stage_ = {position, phase, 0};
  optimizer_ = std::make_unique<torch::optim::Adam>(
      params, torch::optim::AdamOptions(options_.learning_rate));
}

std::vector<std::vector<int64_t>> LMIndexerTrainer::epoch_batches(int64_t position,
                                                                  LMIndexerPhase phase,
                                                                  uint64_t seed) const {
  const int64_t N = tokens_.size(0);
  if (phase == LMIndexerPhase::kJoint && position > 0) {
    std::vector<SemanticId> prefixes(N);
    auto c = codes_.accessor<int64_t, 2>();
    for (int64_t i = 0; i < N; ++i)
      for (int64_t s = 0; s < position; ++s) prefixes[i].push_back(Token(c[i][s]));
    return prefix_grouped_batches(prefixes, options_.batch_size, seed);
  }
  std::vector<int64_t> order(N);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<std::vector<int64_t>> batches;
  for (int64_t i = 0; i < N; i += options_.batch_size)
    batches.emplace_back(order.begin() + i,
                         order.begin() + std::min<int64_t>(N, i + options_.batch_size));
  return batches;
}

LMIndexerEpochStats LMIndexerTrainer::train_epoch(int64_t position, LMIndexerPhase phase,
                                                  int64_t epoch) {
  RECSYS_CHECK(position >= 0 && position < int64_t(options_.id_length), "bad position");
  if (!optimizer_ || optimizer_stage_.position != position || optimizer_stage_.phase != phase)
    make_optimizer(position, phase);
  const uint64_t seed = epoch_seed(options_.seed, position, phase, epoch);
  torch::manual_seed(seed);
  const auto batches = epoch_batches(position, phase, seed);
  const int64_t N = tokens_.size(0);
  const int64_t mask_id = tokenizer_->vocab_size();
  const double rate = options_.mask_rate_at(uint32_t(position));
  auto& enc = model_->encoder;
  auto& rec = model_->reconstructor;
  model_->train();
  const auto t0 = Clock::now();
  const int64_t total_epochs =
      phase == LMIndexerPhase::kWarmup ? options_.warmup_epochs : options_.epochs;
  char label[96];
  std::snprintf(label, sizeof(label), "lmindexer pos %lld/%u %s epoch %lld/%lld",
                (long long)position + 1, options_.id_length, phase_name(phase),
                (long long)epoch + 1, (long long)total_epochs);
  Progress progress(label, uint64_t(N), "items", options_.log_interval_seconds);
  double sum_rec = 0, sum_con = 0, sum_com = 0, correct = 0, masked_total = 0;
  int64_t seen = 0;
  for (const auto& batch_items : batches) {
    const auto idx = index_tensor(batch_items);
    const Batch b = take(tokens_, padding_, idx);
    const int64_t B = b.tokens.size(0);
    const auto prefix = codes_.index_select(0, idx).slice(1, 0, position);  // [B, t-1]
    const auto masked = mask_tokens(b.tokens, b.padding, rate, mask_id);
    torch::Tensor code_memory = enc->code_embeddings(prefix).detach();  // [B, t-1, d]
    torch::Tensor contrastive = torch::zeros({});
    torch::Tensor commitment = torch::zeros({});
    if (phase == LMIndexerPhase::kWarmup && options_.warmup_encoder) {
      // Continuous warm-up: h_t itself (no codebook yet) is the new key/value, so the encoder
      // learns what the reconstruction needs before k-means turns h_t into codes.
      const auto h = enc->forward(b.tokens, b.padding, prefix);
      code_memory = torch::cat({code_memory, h.select(1, position).unsqueeze(1)}, 1);
      commitment = enc->commitment_loss(h, prefix);
    } else if (phase == LMIndexerPhase::kJoint) {
      const auto h = enc->forward(b.tokens, b.padding, prefix);  // [B, t, d]
      const auto ht = h.select(1, position);
      const auto q = enc->quantize(ht, position);
      code_memory = torch::cat({code_memory, q.embedding.unsqueeze(1)}, 1);
      // Second view of the same items under other dropout; negatives share the prefix c_<t.
      const auto ht2 = enc->forward(b.tokens, b.padding, prefix).select(1, position);
      contrastive = contrastive_loss(ht, ht2, same_prefix_mask(prefix), options_.temperature);
      commitment = enc->commitment_loss(h, prefix);
    }
    const auto hidden = rec->forward(masked.tokens, b.padding, code_memory);  // [B, T, d]
    const auto flat_mask = masked.masked.reshape({-1});
    const auto selected = hidden.reshape({-1, hidden.size(2)}).index({flat_mask});
    const auto targets = b.tokens.reshape({-1}).index({flat_mask});
    const auto logits = rec->logits(selected);
    const auto reconstruction = torch::nn::functional::cross_entropy(logits, targets);
    const auto loss = reconstruction + options_.contrastive_weight * contrastive +
                      options_.commitment_weight * commitment;
    optimizer_->zero_grad();
    loss.backward();
    if (options_.grad_clip > 0)
      torch::nn::utils::clip_grad_norm_(optimizer_->param_groups()[0].params(), options_.grad_clip);
    optimizer_->step();
    sum_rec += reconstruction.item<double>() * double(targets.size(0));  // per masked token
    sum_con += contrastive.item<double>() * B;
    sum_com += commitment.item<double>() * B;
    correct += (logits.argmax(1) == targets).sum().item<double>();
    masked_total += double(targets.size(0));
    seen += B;
    char extra[160];
    std::snprintf(extra, sizeof(extra), "recon=%.4f con=%.4f commit=%.4f", sum_rec / masked_total,
                  sum_con / seen, sum_com / seen);
    progress.add(uint64_t(B), extra);
  }
  LMIndexerEpochStats st;
  st.position = uint32_t(position);
  st.phase = phase_name(phase);
  st.epoch = uint32_t(epoch);
  st.reconstruction = sum_rec / std::max(1.0, masked_total);
  st.contrastive = sum_con / std::max<int64_t>(1, seen);
  st.commitment = sum_com / std::max<int64_t>(1, seen);
  st.masked_accuracy = correct / std::max(1.0, masked_total);
  st.seconds = seconds_since(t0);
  st.items_per_second = st.seconds > 0 ? seen / st.seconds : 0;
  char extra[200];
  std::snprintf(extra, sizeof(extra), "recon=%.4f con=%.4f commit=%.4f masked_acc=%.3f",
                st.reconstruction, st.contrastive, st.commitment, st.masked_accuracy);
  progress.finish(extra);
  return st;
}

torch::Tensor LMIndexerTrainer::hidden_states(int64_t position) {
  torch::NoGradGuard no_grad;
  model_->eval();
  const int64_t N = tokens_.size(0);
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < N; i += options_.batch_size) {
    const auto idx = torch::arange(i, std::min<int64_t>(N, i + options_.batch_size), torch::kLong);
    const Batch b = take(tokens_, padding_, idx);
    const auto prefix = codes_.index_select(0, idx).slice(1, 0, position);
    out.push_back(model_->encoder->forward(b.tokens, b.padding, prefix).select(1, position));
  }
  return torch::cat(out, 0);
}

void LMIndexerTrainer::init_codebook(int64_t position) {
  const auto t0 = Clock::now();
  const auto h = hidden_states(position).contiguous();
  // Cosine k-means: cluster the directions of h_t, then give every code the mean norm of h_t so
  // that argmax <h, E_j> picks the nearest direction.
  const auto norms = h.norm(2, 1, /*keepdim=*/true).clamp_min(1e-6);
  const auto dirs = (h / norms).contiguous();
  RowMatrix x(dirs.size(0), dirs.size(1));
  std::memcpy(x.data(), dirs.data_ptr<float>(), sizeof(float) * size_t(dirs.numel()));
  KMeansOptions ko;
  ko.k = options_.codebook_size;
  ko.max_iterations = options_.kmeans_iterations;
  ko.seed = splitmix64(options_.seed ^ (0x1000u + uint64_t(position)));
  KMeans km(ko);
  km.fit(x);
  auto centroids = torch::from_blob(const_cast<float*>(km.centroids().data()),
                                    {km.centroids().rows(), km.centroids().cols()}, torch::kFloat)
                       .clone();
  centroids = centroids / centroids.norm(2, 1, true).clamp_min(1e-6) * norms.mean();
  {
    torch::NoGradGuard no_grad;
    model_->encoder->codebook(position).copy_(centroids);
  }
  RECSYS_LOG(Info) << "lmindexer pos " << position + 1
                   << ": codebook initialised by k-means (K=" << ko.k << ", inertia "
                   << km.inertia() << ") in " << format_duration(seconds_since(t0));
}

void LMIndexerTrainer::assign_codes(int64_t position) {
  torch::NoGradGuard no_grad;
  const auto h = hidden_states(position);
  const auto c = model_->encoder->quantize(h, position).codes;
  codes_.select(1, position).copy_(c);
  update_position_stats(position);
}

void LMIndexerTrainer::update_position_stats(int64_t position) {
  const auto c = codes_.select(1, position).contiguous();
  const auto counts = torch::bincount(c, {}, options_.codebook_size).to(torch::kDouble);
  const auto p = counts / counts.sum();
  const double entropy = -(p * torch::log(p.clamp_min(1e-300))).sum().item<double>();
  LMIndexerPositionStats st;
  st.position = uint32_t(position);
  st.codes_used = uint32_t((counts > 0).sum().item<int64_t>());
  st.perplexity = std::exp(entropy);
  position_stats_.resize(std::max<size_t>(position_stats_.size(), size_t(position) + 1));
  position_stats_[position] = st;
  RECSYS_LOG(Info) << "lmindexer pos " << position + 1 << ": codes assigned, " << st.codes_used
                   << "/" << options_.codebook_size << " used, perplexity " << st.perplexity;
}

void LMIndexerTrainer::reassign_all() {
  const auto t0 = Clock::now();
  const int64_t L = options_.id_length;
  const auto regenerated = generate(tokens_, padding_, L);
  const auto differ = regenerated != codes_;
  LMIndexerReassignStats st;
  st.done = true;
  st.items = uint64_t(codes_.size(0));
  st.items_changed = uint64_t(differ.any(1).sum().item<int64_t>());
  std::string per_position;
  for (int64_t t = 0; t < L; ++t) {
    st.changed_per_position.push_back(uint64_t(differ.select(1, t).sum().item<int64_t>()));
    per_position += (t ? "/" : "") + std::to_string(st.changed_per_position.back());
  }
  codes_.copy_(regenerated);
  reassign_ = st;
  RECSYS_LOG(Info) << "lmindexer: final reassignment from the trained model: " << st.items_changed
                   << " of " << st.items << " items changed (" << 100.0 * st.fraction_changed()
                   << "%; per position " << per_position << ") in "
                   << format_duration(seconds_since(t0));
  for (int64_t t = 0; t < L; ++t) update_position_stats(t);
}

bool LMIndexerTrainer::run() {
  const int64_t L = options_.id_length;
  const int64_t total_epochs = L * int64_t(options_.warmup_epochs + options_.epochs);
  uint32_t epochs_this_run = 0;
  const auto run_start = Clock::now();
  const double seconds_before = training_seconds_;
  auto finish_epoch = [&](const LMIndexerEpochStats& st) -> bool {
    history_.push_back(st);
    training_seconds_ = seconds_before + seconds_since(run_start);
    const int64_t done = int64_t(history_.size());
    const double per_epoch = training_seconds_ / std::max<int64_t>(1, done);
    RECSYS_LOG(Info) << "lmindexer: epoch " << done << "/" << total_epochs << " done, elapsed "
                     << format_duration(training_seconds_) << ", run ETA "
                     << format_duration(per_epoch * double(total_epochs - done));
    ++epochs_this_run;
    return options_.stop_after_epochs > 0 && epochs_this_run >= options_.stop_after_epochs;
  };
  auto checkpoint = [&] {
    if (!options_.checkpoint_path.empty()) save(options_.checkpoint_path);
  };
  while (state_.position < L) {
    const int64_t t = state_.position;
    if (state_.phase == LMIndexerPhase::kWarmup) {
      if (state_.epoch == 0) optimizer_.reset();
      while (state_.phase == LMIndexerPhase::kWarmup &&
             state_.epoch < int64_t(options_.warmup_epochs)) {
        const auto st = train_epoch(t, LMIndexerPhase::kWarmup, state_.epoch);
        ++state_.epoch;
        if (state_.epoch == int64_t(options_.warmup_epochs)) {
          state_ = {t, LMIndexerPhase::kJoint, 0};
          optimizer_.reset();
        }
        const bool stop = finish_epoch(st);
        checkpoint();
        if (stop) return false;
      }
      if (state_.phase == LMIndexerPhase::kWarmup) {  // warmup_epochs == 0
        state_ = {t, LMIndexerPhase::kJoint, 0};
        optimizer_.reset();
      }
    }
    if (state_.epoch == 0) {
      optimizer_.reset();
      init_codebook(t);
    }
    while (state_.position == t && state_.epoch < int64_t(options_.epochs)) {
      const auto st = train_epoch(t, LMIndexerPhase::kJoint, state_.epoch);
      ++state_.epoch;
      if (state_.epoch == int64_t(options_.epochs)) {
        assign_codes(t);
        state_ = {t + 1, LMIndexerPhase::kWarmup, 0};
        optimizer_.reset();
      }
      const bool stop = finish_epoch(st);
      checkpoint();
      if (stop && !complete()) return false;
      if (stop) break;
    }
  }
  if (options_.final_reassign && !reassign_.done) {
    reassign_all();
    checkpoint();
  }
  training_seconds_ = seconds_before + seconds_since(run_start);
  return true;
}

torch::Tensor LMIndexerTrainer::generate(const torch::Tensor& tokens, const torch::Tensor& padding,
                                         int64_t positions) {
  torch::NoGradGuard no_grad;
  model_->eval();
  const int64_t N = tokens.size(0);
  auto out = torch::zeros({N, positions}, torch::kLong);
  for (int64_t i = 0; i < N; i += options_.batch_size) {
    const auto idx = torch::arange(i, std::min<int64_t>(N, i + options_.batch_size), torch::kLong);
    const Batch b = take(tokens, padding, idx);
    auto& enc = model_->encoder;
    const auto memory = enc->encode_text(b.tokens, b.padding);
    auto prefix = torch::zeros({b.tokens.size(0), 0}, torch::kLong);
    for (int64_t t = 0; t < positions; ++t) {
      const auto h = enc->decode(memory, b.padding, prefix).select(1, t);
      prefix = torch::cat({prefix, enc->quantize(h, t).codes.unsqueeze(1)}, 1);
    }
    out.index_copy_(0, idx, prefix);
  }
  return out;
}

std::vector<SemanticId> LMIndexerTrainer::assign(const std::vector<std::string>& texts) {
  RECSYS_CHECK(complete(), "lmindexer: the model is not fully trained (position ", state_.position,
               " of ", options_.id_length, ")");
  torch::Tensor tokens, padding;
  tokenize(texts, tokens, padding);
  const auto c = generate(tokens, padding, options_.id_length);
  std::vector<SemanticId> out(texts.size());
  auto a = c.accessor<int64_t, 2>();
  for (size_t i = 0; i < texts.size(); ++i)
    for (int64_t t = 0; t < c.size(1); ++t) out[i].push_back(Token(a[int64_t(i)][t]));
  return out;
}

std::vector<SemanticId> LMIndexerTrainer::codes() const {
  const int64_t N = codes_.size(0), L = std::min<int64_t>(state_.position, codes_.size(1));
  std::vector<SemanticId> out(N);
  auto a = codes_.accessor<int64_t, 2>();
  for (int64_t i = 0; i < N; ++i)
    for (int64_t t = 0; t < L; ++t) out[i].push_back(Token(a[i][t]));
  return out;
}

double LMIndexerTrainer::drift() {
  const int64_t L = std::min<int64_t>(state_.position, options_.id_length);
  if (L == 0) return 0.0;
  const auto regenerated = generate(tokens_, padding_, L);
  const auto differ = (regenerated != codes_.slice(1, 0, L)).any(1);
  return differ.to(torch::kDouble).mean().item<double>();
}

// --- checkpoint ---

void LMIndexerTrainer::save(const std::string& path) const {
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(std::string("recsys.lmindexer")));
  archive.write("version", c10::IValue(kLMIndexerCheckpointVersion));
  internal::visit_trained_fields(options_, [&](const char* name, const auto& value) {
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<T, std::string>) {
      archive.write(std::string("opt/") + name, c10::IValue(value));
    } else if constexpr (std::is_floating_point_v<T>) {
      archive.write(std::string("opt/") + name, c10::IValue(double(value)));
    } else {
      archive.write(std::string("opt/") + name, c10::IValue(int64_t(value)));
    }
  });
  const std::string spm = tokenizer_->serialized();
  archive.write("tokenizer", torch::from_blob(const_cast<char*>(spm.data()), {int64_t(spm.size())},
                                              torch::kUInt8)
                                 .clone());
  archive.write("tokens", tokens_);
  archive.write("padding", padding_);
  archive.write("codes", codes_);
  archive.write("fingerprint", c10::IValue(int64_t(text_fingerprint_)));
  archive.write("state/position", c10::IValue(state_.position));
  archive.write("state/phase", c10::IValue(int64_t(state_.phase)));
  archive.write("state/epoch", c10::IValue(state_.epoch));
  archive.write("training_seconds", c10::IValue(training_seconds_));
  std::vector<double> hist;
  for (const auto& h : history_)
    hist.insert(hist.end(), {double(h.position), h.phase == "warmup" ? 0.0 : 1.0, double(h.epoch),
                             h.reconstruction, h.contrastive, h.commitment, h.masked_accuracy,
                             h.seconds, h.items_per_second});
  archive.write("history", torch::tensor(hist, torch::kDouble).reshape({-1, 9}));
  std::vector<double> ps;
  for (const auto& p : position_stats_)
    ps.insert(ps.end(), {double(p.position), double(p.codes_used), p.perplexity});
  archive.write("position_stats", torch::tensor(ps, torch::kDouble).reshape({-1, 3}));
  archive.write("final/reassigned", c10::IValue(reassign_.done));
  archive.write("final/items_changed", c10::IValue(int64_t(reassign_.items_changed)));
  std::vector<int64_t> changed(reassign_.changed_per_position.begin(),
                               reassign_.changed_per_position.end());
  archive.write("final/changed_per_position", torch::tensor(changed, torch::kLong));
  archive.write("glove/matched", c10::IValue(int64_t(glove_matched_)));
  archive.write("encoder_script/hash", c10::IValue(int64_t(script_hash_)));
  archive.write("encoder_script/hidden", c10::IValue(script_hidden_));
  if (auto* script = model_->encoder->script(); script && !options_.freeze_encoder_script)
    for (const auto& p : script->named_parameters())
      archive.write("encoder_script/param/" + p.name, p.value.detach());
  torch::serialize::OutputArchive model_archive;
  model_->save(model_archive);
  archive.write("model", model_archive);
  const bool mid_phase = optimizer_ && state_.epoch > 0;
  archive.write("has_optimizer", c10::IValue(mid_phase));
  if (mid_phase) {
    torch::serialize::OutputArchive opt_archive;
    optimizer_->save(opt_archive);
    archive.write("optimizer", opt_archive);
  }
  // Atomic: a crash mid-write leaves the previous checkpoint intact.
  const std::string tmp = path + ".tmp";
  try {
    archive.save_to(tmp);
  } catch (const c10::Error& e) {
    RECSYS_THROW(ErrorCode::kIOError, "cannot write checkpoint ", tmp, ": ",
                 e.what_without_backtrace());
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    RECSYS_THROW(ErrorCode::kIOError, "cannot rename ", tmp, " to ", path);
}

std::unique_ptr<LMIndexerTrainer> LMIndexerTrainer::load(const std::string& path) {
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
  } else {
    RECSYS_THROW(ErrorCode::kNotFound, "lmindexer checkpoint not found: ", path);
  }
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    RECSYS_THROW(ErrorCode::kCorruption, "not a readable checkpoint: ", path, ": ",
                 e.what_without_backtrace());
  }
  auto read = [&](const std::string& key) {
    c10::IValue v;
    if (!archive.try_read(key, v))
      RECSYS_THROW(ErrorCode::kCorruption, "checkpoint ", path, " lacks '", key, "'");
    return v;
  };
  auto read_tensor = [&](const std::string& key) {
    torch::Tensor t;
    try {
      archive.read(key, t);
    } catch (const c10::Error&) {
      RECSYS_THROW(ErrorCode::kCorruption, "checkpoint ", path, " lacks tensor '", key, "'");
    }
    return t;
  };
  c10::IValue format;
  if (!archive.try_read("format", format) || !format.isString() ||
      format.toStringRef() != "recsys.lmindexer")
    RECSYS_THROW(ErrorCode::kCorruption, path, " is not an lmindexer checkpoint");
  const int64_t version = read("version").toInt();
  if (version < 1 || version > kLMIndexerCheckpointVersion)
    RECSYS_THROW(ErrorCode::kUnsupported, "lmindexer checkpoint ", path, " has format version ",
                 version, "; this build reads versions 1 to ", kLMIndexerCheckpointVersion);
  std::unique_ptr<LMIndexerTrainer> tr(new LMIndexerTrainer());
  if (version == 1) tr->options_.final_reassign = false;  // version 1 had no reassignment
  internal::visit_trained_fields(tr->options_, [&](const char* name, auto& value) {
    using T = std::decay_t<decltype(value)>;
    if (version == 1 && internal::is_v2_field(name)) return;
    const auto v = read(std::string("opt/") + name);
    if constexpr (std::is_same_v<T, std::string>) {
      value = v.toStringRef();
    } else if constexpr (std::is_floating_point_v<T>) {
      value = T(v.toDouble());
    } else {
      value = T(v.toInt());
    }
  });
  tr->options_.validate();
  const auto spm = read_tensor("tokenizer").contiguous();
  tr->tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_serialized(
      std::string(reinterpret_cast<const char*>(spm.data_ptr<uint8_t>()), size_t(spm.numel()))));
  tr->tokens_ = read_tensor("tokens");
  tr->padding_ = read_tensor("padding");
  tr->codes_ = read_tensor("codes");
  tr->text_fingerprint_ = uint64_t(read("fingerprint").toInt());
  tr->state_.position = read("state/position").toInt();
  tr->state_.phase = LMIndexerPhase(read("state/phase").toInt());
  tr->state_.epoch = read("state/epoch").toInt();
  tr->training_seconds_ = read("training_seconds").toDouble();
  const auto hist = read_tensor("history");
  for (int64_t i = 0; i < hist.size(0); ++i) {
    auto r = hist[i];
    LMIndexerEpochStats h;
    h.position = uint32_t(r[0].item<double>());
    h.phase = r[1].item<double>() == 0 ? "warmup" : "joint";
    h.epoch = uint32_t(r[2].item<double>());
    h.reconstruction = r[3].item<double>();
    h.contrastive = r[4].item<double>();
    h.commitment = r[5].item<double>();
    h.masked_accuracy = r[6].item<double>();
    h.seconds = r[7].item<double>();
    h.items_per_second = r[8].item<double>();
    tr->history_.push_back(h);
  }
  const auto ps = read_tensor("position_stats");
  for (int64_t i = 0; i < ps.size(0); ++i)
    tr->position_stats_.push_back({uint32_t(ps[i][0].item<double>()),
                                   uint32_t(ps[i][1].item<double>()), ps[i][2].item<double>()});
  if (version >= 2) {
    tr->reassign_.done = read("final/reassigned").toBool();
    tr->reassign_.items = uint64_t(tr->codes_.size(0));
    tr->reassign_.items_changed = uint64_t(read("final/items_changed").toInt());
    const auto changed = read_tensor("final/changed_per_position").contiguous();
    for (int64_t t = 0; t < changed.numel(); ++t)
      tr->reassign_.changed_per_position.push_back(uint64_t(changed[t].item<int64_t>()));
    tr->glove_matched_ = uint64_t(read("glove/matched").toInt());
  }
  std::optional<torch::jit::Module> script;
  if (!tr->options_.encoder_script.empty()) {
    script = tr->load_script();
    const auto stored_hash = uint64_t(read("encoder_script/hash").toInt());
    RECSYS_CHECK(tr->script_hash_ == stored_hash, "TorchScript encoder '",
                 tr->options_.encoder_script, "' differs from the one checkpoint ", path,
                 " was trained with (content hash ", tr->script_hash_, " vs ", stored_hash,
                 "); restore that file or retrain");
    RECSYS_CHECK(tr->script_hidden_ == read("encoder_script/hidden").toInt(),
                 "TorchScript encoder output width changed since checkpoint ", path);
    if (!tr->options_.freeze_encoder_script) {
      torch::NoGradGuard no_grad;
      for (const auto& p : script->named_parameters())
        p.value.copy_(read_tensor("encoder_script/param/" + p.name));
    }
  }
  tr->build_model(std::move(script));
  torch::serialize::InputArchive model_archive;
  archive.read("model", model_archive);
  tr->model_->load(model_archive);
  if (read("has_optimizer").toBool()) {
    tr->make_optimizer(tr->state_.position, tr->state_.phase);
    torch::serialize::InputArchive opt_archive;
    archive.read("optimizer", opt_archive);
    tr->optimizer_->load(opt_archive);
  }
  return tr;
}

void LMIndexerTrainer::adopt_runtime_options(const LMIndexerOptions& options,
                                             const std::vector<std::string>& texts) {
  RECSYS_CHECK(fingerprint(texts) == text_fingerprint_, "checkpoint ", options.checkpoint_path,
               " was trained on other item texts (", tokens_.size(0), " items); remove it");
  options_.threads = options.threads;
  options_.checkpoint_path = options.checkpoint_path;
  options_.resume = options.resume;
  options_.stop_after_epochs = options.stop_after_epochs;
  options_.log_interval_seconds = options.log_interval_seconds;
  if (options_.threads > 0) torch::set_num_threads(options_.threads);
  RECSYS_LOG(Info) << "lmindexer: resuming from " << options.checkpoint_path << " at position "
                   << state_.position + 1 << ", "
                   << (state_.phase == LMIndexerPhase::kWarmup ? "warmup" : "joint") << " epoch "
                   << state_.epoch;
}

}  // namespace recsys::indexer
