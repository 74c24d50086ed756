// Subword tokenizer for item text, backed by SentencePiece (Debian's libsentencepiece). Either
// trained on the item corpus (unigram or BPE) or loaded from an existing `spiece.model`, e.g. the
// T5 one. The model travels as its serialized protobuf so checkpoints are self-contained.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace recsys::indexer {

struct TokenizerOptions {
  int vocab_size = 8000;               // upper bound: small corpora get fewer pieces
  std::string model_type = "unigram";  // "unigram" or "bpe"
  double character_coverage = 0.9995;
  bool lowercase = true;  // case folding (normalization nmt_nfkc_cf)
  int num_threads = 2;
  int max_sentence_length = 4192;  // bytes; longer texts are trained on by their start
  void validate() const;
};

class Tokenizer {
 public:
  // Trains a model on `corpus` (one item text per entry; empty entries are skipped).
  static Tokenizer train(const std::vector<std::string>& corpus, const TokenizerOptions& options);
  // Loads a SentencePiece model file (our own or a pretrained spiece.model). Throws kNotFound
  // if missing, kCorruption if it does not parse.
  static Tokenizer load(const std::string& path);
  // Loads from the bytes returned by serialized().
  static Tokenizer from_serialized(const std::string& bytes);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  void save(const std::string& path) const;
  std::string serialized() const;

  std::vector<int> encode(const std::string& text) const;
  std::vector<std::string> encode_pieces(const std::string& text) const;
  std::string decode(const std::vector<int>& ids) const;
  std::string piece(int id) const;

  int vocab_size() const;
  // Special ids; -1 when the model has none (T5 has no bos, for instance).
  int pad_id() const;
  int unk_id() const;
  int bos_id() const;
  int eos_id() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace recsys::indexer
