#include "indexer/word_embeddings.h"

#include <simdjson.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "indexer/tfidf_features.h"
#include "recsys/error.h"
#include "recsys/logging.h"

namespace recsys::indexer {
namespace {

constexpr char kMagic[8] = {'R', 'S', 'W', 'V', 'E', 'C', '0', '1'};

}  // namespace

void WordEmbeddings::add(const std::string& word, const float* values, int dims) {
  if (vectors_.cols() == 0) vectors_.resize(1024, dims);
  RECSYS_CHECK(dims == vectors_.cols(), "word vectors: '", word, "' has ", dims,
               " values, expected ", vectors_.cols());
  if (index_.count(word)) return;  // first vector of a word wins
  if (rows_used_ == static_cast<size_t>(vectors_.rows()))
    vectors_.conservativeResize(vectors_.rows() * 2, dims);
  std::memcpy(vectors_.row(rows_used_).data(), values, sizeof(float) * dims);
  index_.emplace(word, static_cast<uint32_t>(rows_used_));
  words_.push_back(word);
  ++rows_used_;
}

const float* WordEmbeddings::find(const std::string& word) const {
  auto it = index_.find(word);
  return it == index_.end() ? nullptr : vectors_.row(it->second).data();
}

WordEmbeddings WordEmbeddings::from_wink_json(const std::string& path) {
  simdjson::padded_string json;
  if (simdjson::padded_string::load(path).get(json))
    RECSYS_THROW(ErrorCode::kIOError, "cannot read word vectors '", path, "'");
  simdjson::ondemand::parser parser;
  WordEmbeddings out;
  try {
    simdjson::ondemand::document doc = parser.iterate(json);
    int64_t dims = doc["dimensions"].get_int64();
    RECSYS_CHECK(dims > 0 && dims < 100000, "'", path, "': bad \"dimensions\"");
    std::vector<float> values;
    for (auto field : doc["vectors"].get_object()) {
      const std::string word(field.unescaped_key().value());
      values.clear();
      for (auto v : field.value().get_array()) {
        // The trailing l2 norm and word index are left unread (ondemand skips them).
        if (static_cast<int64_t>(values.size()) < dims)
          values.push_back(static_cast<float>(v.get_double().value()));
      }
      RECSYS_CHECK(static_cast<int64_t>(values.size()) == dims, "'", path, "': word '", word,
                   "' has ", values.size(), " values, expected ", dims);
      out.add(word, values.data(), static_cast<int>(dims));
    }
  } catch (const simdjson::simdjson_error& e) {
    RECSYS_THROW(ErrorCode::kInvalidArgument, "'", path, "': not a wink-embeddings JSON file (",
                 e.what(), ")");
  }
  out.vectors_.conservativeResize(out.rows_used_, out.vectors_.cols());
  RECSYS_CHECK(out.size() > 0, "'", path, "': no word vectors");
  return out;
}

void WordEmbeddings::save_cache(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) RECSYS_THROW(ErrorCode::kIOError, "cannot write '", tmp, "'");
    out.write(kMagic, 8);
    const uint32_t dims = static_cast<uint32_t>(vectors_.cols());
    const uint64_t count = words_.size();
    out.write(reinterpret_cast<const char*>(&dims), 4);
    out.write(reinterpret_cast<const char*>(&count), 8);
    for (const auto& w : words_) {
      const uint32_t len = static_cast<uint32_t>(w.size());
      out.write(reinterpret_cast<const char*>(&len), 4);
      out.write(w.data(), len);
    }
    out.write(reinterpret_cast<const char*>(vectors_.data()), sizeof(float) * count * dims);
    if (!out) RECSYS_THROW(ErrorCode::kIOError, "failed writing '", tmp, "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    RECSYS_THROW(ErrorCode::kIOError, "cannot rename '", tmp, "' to '", path, "'");
}

WordEmbeddings WordEmbeddings::load_cache(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) RECSYS_THROW(ErrorCode::kIOError, "cannot open '", path, "'");
  char magic[8];
  uint32_t dims = 0;
  uint64_t count = 0;
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(&dims), 4);
  in.read(reinterpret_cast<char*>(&count), 8);
  if (!in || std::memcmp(magic, kMagic, 8) != 0 || dims == 0 || dims > 100000)
    RECSYS_THROW(ErrorCode::kCorruption, "'", path, "' is not a word-vector cache");
  // Each word takes at least its 4-byte length and its vector: a count the file cannot hold is
  // refused before anything is allocated.
  if (count > std::filesystem::file_size(path) / (4 + sizeof(float) * uint64_t(dims)))
    RECSYS_THROW(ErrorCode::kCorruption, "'", path, "': ", count, " words of ", dims,
                 " dimensions do not fit in the file");
  WordEmbeddings out;
  out.words_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t len = 0;
    in.read(reinterpret_cast<char*>(&len), 4);
    if (!in || len > 1 << 20)
      RECSYS_THROW(ErrorCode::kCorruption, "'", path, "': truncated at word ", i);
    std::string w(len, '\0');
    in.read(w.data(), len);
    out.index_.emplace(w, static_cast<uint32_t>(i));
    out.words_.push_back(std::move(w));
  }
  out.vectors_.resize(count, dims);
  in.read(reinterpret_cast<char*>(out.vectors_.data()), sizeof(float) * count * dims);
  if (!in) RECSYS_THROW(ErrorCode::kCorruption, "'", path, "': truncated vectors");
  out.rows_used_ = count;
  return out;
}

namespace {

// What identifies the file a cache was made from: its absolute path, size and modification time
// (kept beside the cache as <cache>.source).
std::string source_signature(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string absolute = fs::absolute(path, ec).string();
  const uintmax_t size = fs::file_size(path, ec);
  const auto mtime = fs::last_write_time(path, ec).time_since_epoch().count();
  return absolute + "\n" + std::to_string(size) + "\n" + std::to_string(mtime) + "\n";
}

std::string read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

WordEmbeddings WordEmbeddings::load(const std::string& path, const std::string& cache_path) {
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) RECSYS_THROW(ErrorCode::kIOError, "cannot open '", path, "'");
    char magic[8] = {};
    in.read(magic, 8);
    if (in && std::memcmp(magic, kMagic, 8) == 0) return load_cache(path);
  }
  const std::string signature = source_signature(path);
  if (!cache_path.empty() && std::ifstream(cache_path).good()) {
    if (read_small_file(cache_path + ".source") == signature) return load_cache(cache_path);
    RECSYS_LOG(Info) << "word-vector cache '" << cache_path << "' was not made from '" << path
                     << "' as it is now: rebuilding it";
  }
  WordEmbeddings e = from_wink_json(path);
  RECSYS_LOG(Info) << "word vectors: " << e.size() << " x " << e.dims() << " from " << path;
  if (!cache_path.empty()) {
    e.save_cache(cache_path);
    std::ofstream source(cache_path + ".source", std::ios::binary | std::ios::trunc);
    source << signature;
    if (!source) RECSYS_THROW(ErrorCode::kIOError, "cannot write '", cache_path, ".source'");
  }
  return e;
}

std::string GloveMeanOptions::to_json() const {
  return nlohmann::json{{"encoder", "glove_mean"},
                        {"field", field},
                        {"tfidf_weighted", tfidf_weighted},
                        {"normalize", normalize}}
      .dump();
}

RowMatrix glove_mean_embeddings(const std::vector<ItemRecord>& items,
                                const WordEmbeddings& embeddings, const GloveMeanOptions& options,
                                GloveMeanStats* stats) {
  RECSYS_CHECK(embeddings.size() > 0, "GloVe mean: no word vectors");
  std::vector<std::string> docs;
  docs.reserve(items.size());
  for (const auto& item : items) docs.push_back(item_field_text(item, options.field));
  TfidfOptions to;
  to.field = options.field;
  to.min_df = 1;
  TfidfVectorizer vectorizer(to);
  const SparseRowMatrix w = vectorizer.fit_transform(docs);
  std::vector<const float*> term_vector(vectorizer.vocabulary().size());
  for (size_t t = 0; t < term_vector.size(); ++t)
    term_vector[t] = embeddings.find(vectorizer.vocabulary()[t]);
  const int dims = embeddings.dims();
  RowMatrix x = RowMatrix::Zero(items.size(), dims);
  GloveMeanStats s;
  s.items = items.size();
  uint64_t tokens = 0, known = 0;
  for (Eigen::Index i = 0; i < w.rows(); ++i) {
    float total_weight = 0;
    for (SparseRowMatrix::InnerIterator it(w, i); it; ++it) {
      ++tokens;
      const float* v = term_vector[it.col()];
      if (!v) continue;
      ++known;
      const float weight = options.tfidf_weighted ? it.value() : 1.0f;
      x.row(i) += weight * Eigen::Map<const Eigen::RowVectorXf>(v, dims);
      total_weight += weight;
    }
    const float norm = x.row(i).norm();
    if (norm == 0) {
      ++s.items_without_known_word;
    } else {
      x.row(i) /= options.normalize ? norm : total_weight;
    }
  }
  s.token_coverage = tokens ? double(known) / tokens : 0;
  RECSYS_LOG(Info) << "GloVe mean(" << options.field << "): " << s.items << " items, "
                   << 100 * s.token_coverage << "% of distinct item words have a vector, "
                   << s.items_without_known_word << " items without any";
  if (stats) *stats = s;
  return x;
}

}  // namespace recsys::indexer
