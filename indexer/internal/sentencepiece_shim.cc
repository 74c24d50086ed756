// Shared module wrapping libsentencepiece; see sentencepiece_api.h for why it is separate.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include "indexer/internal/sentencepiece_api.h"

namespace {

using recsys::indexer::internal::SentencePieceApi;
using Processor = sentencepiece::SentencePieceProcessor;

std::string message(const sentencepiece::util::Status& s) { return s.ok() ? "" : s.ToString(); }

class VectorSentenceIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorSentenceIterator(const std::vector<std::string>& corpus) : corpus_(corpus) {
    skip_empty();
  }
  bool done() const override { return pos_ >= corpus_.size(); }
  void Next() override {
    ++pos_;
    skip_empty();
  }
  const std::string& value() const override { return corpus_[pos_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  void skip_empty() {
    while (pos_ < corpus_.size() && corpus_[pos_].empty()) ++pos_;
  }
  const std::vector<std::string>& corpus_;
  size_t pos_ = 0;
};

const Processor* cp(const void* p) { return static_cast<const Processor*>(p); }

const SentencePieceApi kApi = {
    recsys::indexer::internal::kSentencePieceApiVersion,
    []() -> void* { return new Processor(); },
    [](void* p) { delete static_cast<Processor*>(p); },
    [](void* p, const std::string& proto) {
      return message(static_cast<Processor*>(p)->LoadFromSerializedProto(proto));
    },
    [](const std::unordered_map<std::string, std::string>& args,
       const std::vector<std::string>& corpus, std::string* proto) {
      VectorSentenceIterator it(corpus);
      return message(sentencepiece::SentencePieceTrainer::Train(args, &it, proto));
    },
    [](const void* p, std::string* out) {
      *out = std::string(cp(p)->serialized_model_proto());
      return std::string();
    },
    [](const void* p, const std::string& text, std::vector<int>* ids) {
      return message(cp(p)->Encode(text, ids));
    },
    [](const void* p, const std::string& text, std::vector<std::string>* pieces) {
      return message(cp(p)->Encode(text, pieces));
    },
    [](const void* p, const std::vector<int>& ids, std::string* text) {
      return message(cp(p)->Decode(ids, text));
    },
    [](const void* p, int id) { return cp(p)->IdToPiece(id); },
    [](const void* p, int out[5]) {
      out[0] = cp(p)->GetPieceSize();
      out[1] = cp(p)->unk_id();
      out[2] = cp(p)->bos_id();
      out[3] = cp(p)->eos_id();
      out[4] = cp(p)->pad_id();
    },
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const SentencePieceApi*
recsys_sentencepiece_api() {
  return &kApi;
}
