#include "indexer/tokenizer.h"

#include <dlfcn.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "indexer/internal/sentencepiece_api.h"
#include "recsys/error.h"
#include "recsys/logging.h"

#ifndef RECSYS_SENTENCEPIECE_SHIM_PATH
#define RECSYS_SENTENCEPIECE_SHIM_PATH ""
#endif

namespace recsys::indexer {
namespace {

using internal::SentencePieceApi;

// Loads the shim module once. Search order: $RECSYS_SENTENCEPIECE_SHIM, the path baked in at
// build time, then the bare file name (LD_LIBRARY_PATH / rpath / system directories).
const SentencePieceApi& api() {
  static const SentencePieceApi* loaded = nullptr;
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("RECSYS_SENTENCEPIECE_SHIM")) candidates.push_back(env);
    if (*RECSYS_SENTENCEPIECE_SHIM_PATH) candidates.push_back(RECSYS_SENTENCEPIECE_SHIM_PATH);
    candidates.push_back("librecsys_sentencepiece_shim.so");
    for (const auto& path : candidates) {
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (!handle) {
        failure += std::string("\n  ") + dlerror();
        continue;
      }
      using Fn = const SentencePieceApi* (*)();
      auto fn = reinterpret_cast<Fn>(dlsym(handle, internal::kSentencePieceApiSymbol));
      if (fn && fn()->version == internal::kSentencePieceApiVersion) {
        loaded = fn();
        return;
      }
      failure += "\n  " + path + ": missing or incompatible " + internal::kSentencePieceApiSymbol;
    }
  });
  if (!loaded)
    RECSYS_THROW(ErrorCode::kUnsupported, "cannot load the SentencePiece shim module:", failure);
  return *loaded;
}

void check(const std::string& error, ErrorCode code, const char* what) {
  if (!error.empty()) RECSYS_THROW(code, what, ": ", error);
}

}  // namespace

struct Tokenizer::Impl {
  void* processor = nullptr;
  int ids[5] = {0, -1, -1, -1, -1};  // size, unk, bos, eos, pad
  Impl() : processor(api().create()) {}
  ~Impl() { api().destroy(processor); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
};

void TokenizerOptions::validate() const {
  RECSYS_CHECK(vocab_size >= 16, "tokenizer vocab_size must be >= 16, got ", vocab_size);
  RECSYS_CHECK(model_type == "unigram" || model_type == "bpe",
               "tokenizer model_type must be 'unigram' or 'bpe', got '", model_type, "'");
  RECSYS_CHECK(character_coverage > 0.0 && character_coverage <= 1.0,
               "tokenizer character_coverage must be in (0, 1]");
  RECSYS_CHECK(num_threads >= 1, "tokenizer num_threads must be >= 1");
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::train(const std::vector<std::string>& corpus,
                           const TokenizerOptions& options) {
  options.validate();
  size_t non_empty = 0;
  for (const auto& s : corpus) non_empty += !s.empty();
  RECSYS_CHECK(non_empty > 0, "tokenizer training corpus is empty");
  const std::unordered_map<std::string, std::string> args = {
      {"model_type", options.model_type},
      {"vocab_size", std::to_string(options.vocab_size)},
      // A small corpus may not support vocab_size pieces: take what it has.
      {"hard_vocab_limit", "false"},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"normalization_rule_name", options.lowercase ? "nmt_nfkc_cf" : "nmt_nfkc"},
      {"num_threads", std::to_string(options.num_threads)},
      {"max_sentence_length", std::to_string(options.max_sentence_length)},
      {"input_sentence_size", "0"},  // all sentences, no sampling: deterministic
      {"shuffle_input_sentence", "false"},
      {"pad_id", "0"},
      {"unk_id", "1"},
      {"bos_id", "2"},
      {"eos_id", "3"},
      {"minloglevel", "2"},
  };
  // SentencePiece's trainer skips sentences beyond max_sentence_length (silently, at this log
  // level): a long text (a full description) is trained on by its start, not left out.
  const size_t limit = size_t(options.max_sentence_length);
  std::vector<std::string> cut;
  for (size_t i = 0; i < corpus.size(); ++i) {
    if (corpus[i].size() <= limit) continue;
    if (cut.empty()) cut = corpus;
    size_t n = limit;
    while (n > 0 && (static_cast<unsigned char>(cut[i][n]) & 0xC0) == 0x80) --n;  // whole chars
    cut[i].resize(n);
  }
  std::string proto;
  check(api().train(args, cut.empty() ? corpus : cut, &proto), ErrorCode::kInvalidArgument,
        "SentencePiece training failed");
  Tokenizer tok = from_serialized(proto);
  RECSYS_LOG(Info) << "tokenizer: trained " << options.model_type << " model with "
                   << tok.vocab_size() << " pieces on " << non_empty << " texts";
  return tok;
}

Tokenizer Tokenizer::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) RECSYS_THROW(ErrorCode::kNotFound, "tokenizer model not found: ", path);
  std::ostringstream os;
  os << in.rdbuf();
  auto impl = std::make_unique<Impl>();
  const std::string error = api().load(impl->processor, os.str());
  if (!error.empty())
    RECSYS_THROW(ErrorCode::kCorruption, "not a SentencePiece model: ", path, ": ", error);
  api().ids(impl->processor, impl->ids);
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::from_serialized(const std::string& bytes) {
  auto impl = std::make_unique<Impl>();
  check(api().load(impl->processor, bytes), ErrorCode::kCorruption,
        "cannot load SentencePiece model");
  api().ids(impl->processor, impl->ids);
  return Tokenizer(std::move(impl));
}

void Tokenizer::save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) RECSYS_THROW(ErrorCode::kIOError, "cannot write tokenizer model: ", path);
  const std::string bytes = serialized();
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) RECSYS_THROW(ErrorCode::kIOError, "cannot write tokenizer model: ", path);
}

std::string Tokenizer::serialized() const {
  std::string out;
  check(api().serialized(impl_->processor, &out), ErrorCode::kInternal, "serialize failed");
  return out;
}

std::vector<int> Tokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  check(api().encode_ids(impl_->processor, text, &ids), ErrorCode::kInvalidArgument,
        "tokenizer encode failed");
  return ids;
}

std::vector<std::string> Tokenizer::encode_pieces(const std::string& text) const {
  std::vector<std::string> pieces;
  check(api().encode_pieces(impl_->processor, text, &pieces), ErrorCode::kInvalidArgument,
        "tokenizer encode failed");
  return pieces;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::string text;
  check(api().decode(impl_->processor, ids, &text), ErrorCode::kInvalidArgument,
        "tokenizer decode failed");
  return text;
}

std::string Tokenizer::piece(int id) const {
  RECSYS_CHECK(id >= 0 && id < vocab_size(), "token id ", id, " outside vocabulary");
  return api().id_to_piece(impl_->processor, id);
}
int Tokenizer::vocab_size() const { return impl_->ids[0]; }
int Tokenizer::unk_id() const { return impl_->ids[1]; }
int Tokenizer::bos_id() const { return impl_->ids[2]; }
int Tokenizer::eos_id() const { return impl_->ids[3]; }
int Tokenizer::pad_id() const { return impl_->ids[4]; }

}  // namespace recsys::indexer
