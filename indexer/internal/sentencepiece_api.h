// The function table that the SentencePiece shim module exports. Debian's libsentencepiece embeds
// its own protobuf-lite and exports its symbols; in a process that also loads LibTorch (which links
// libprotobuf.so.32) the two clash during static initialisation and the process crashes before
// main. So every SentencePiece call lives in a separate shared module (sentencepiece_shim.cc),
// which tokenizer.cc loads with dlopen(RTLD_LOCAL | RTLD_DEEPBIND): its protobuf symbols bind
// inside the module and never enter the global scope. Only std types cross this boundary (same
// libstdc++ on both sides).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

namespace recsys::indexer::internal {

// Every function returns an empty string on success, otherwise the error message.
struct SentencePieceApi {
  int version;  // kSentencePieceApiVersion
  void* (*create)();
  void (*destroy)(void* processor);
  std::string (*load)(void* processor, const std::string& serialized_proto);
  std::string (*train)(const std::unordered_map<std::string, std::string>& args,
                       const std::vector<std::string>& corpus, std::string* serialized_proto);
  std::string (*serialized)(const void* processor, std::string* out);
  std::string (*encode_ids)(const void* processor, const std::string& text, std::vector<int>* ids);
  std::string (*encode_pieces)(const void* processor, const std::string& text,
                               std::vector<std::string>* pieces);
  std::string (*decode)(const void* processor, const std::vector<int>& ids, std::string* text);
  std::string (*id_to_piece)(const void* processor, int id);
  // piece_size, unk, bos, eos, pad
  void (*ids)(const void* processor, int out[5]);
};

inline constexpr int kSentencePieceApiVersion = 1;
inline constexpr const char* kSentencePieceApiSymbol = "recsys_sentencepiece_api";

}  // namespace recsys::indexer::internal
