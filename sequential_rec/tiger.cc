#include "sequential_rec/tiger.h"

#include <algorithm>

#include "recsys/error.h"
#include "recsys/hash.h"
#include "sequential_rec/internal/kernel_retry.h"
#include "sequential_rec/internal/model_adapter.h"
#include "sequential_rec/internal/parallel.h"

namespace recsys::seqrec {

TigerVocab::TigerVocab(const std::vector<int64_t>& vocab, int64_t users, int64_t items)
    : code_vocab(vocab), num_user_tokens(users), num_item_tokens(items) {
  RECSYS_CHECK(items >= 0, "the number of item tokens cannot be negative");
  int64_t in = kNumSpecial, out = 0;
  for (int64_t v : code_vocab) {
    RECSYS_CHECK(v > 0, "every ID position needs a positive vocabulary size");
    input_offset.push_back(in);
    output_offset.push_back(out);
    in += v;
    out += v;
  }
  user_offset = in;
  item_offset = in + std::max<int64_t>(users, 1);
  size = item_offset + items;
  num_outputs = out;
}

int64_t TigerVocab::user_token(UserIndex user) const {
  if (num_user_tokens <= 0) return user_offset;
  // Multiplicative hash so that neighbouring user indices spread over the bank.
  const uint64_t h = (static_cast<uint64_t>(user) + 1) * 0x9E3779B97F4A7C15ull;
  return user_offset + static_cast<int64_t>((h >> 32) % static_cast<uint64_t>(num_user_tokens));
}

int64_t TigerVocab::item_token(ItemIndex item) const {
  RECSYS_CHECK(static_cast<int64_t>(item) < num_item_tokens, "item ", item,
               " has no item token (the model has ", num_item_tokens, ")");
  return item_offset + static_cast<int64_t>(item);
}

FeedForwardImpl::FeedForwardImpl(int64_t d_model, int64_t d_ff, double dropout) : dropout(dropout) {
  fc1 = register_module("fc1", torch::nn::Linear(d_model, d_ff));
  fc2 = register_module("fc2", torch::nn::Linear(d_ff, d_model));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) {
  auto h = torch::relu(linear(fc1, x));
  return linear(fc2, internal::dropout(h, dropout, is_training()));
}

namespace {
MultiHeadAttentionOptions attn_options(const TigerOptions& o, bool cross) {
  return MultiHeadAttentionOptions(o.d_model(), o.num_heads(), o.head_dim())
      .dropout(o.dropout())
      .cross(cross);
}
torch::Tensor drop(const torch::Tensor& x, double p, bool training) {
  return internal::dropout(x, p, training);
}
torch::nn::LayerNorm layer_norm(int64_t d) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}));
}
}  // namespace

TigerEncoderLayerImpl::TigerEncoderLayerImpl(const TigerOptions& o) : dropout(o.dropout()) {
  ln1 = register_module("ln1", layer_norm(o.d_model()));
  ln2 = register_module("ln2", layer_norm(o.d_model()));
  attn = register_module("attn", MultiHeadAttention(attn_options(o, false)));
  ff = register_module("ff", FeedForward(o.d_model(), o.d_ff(), o.dropout()));
}

torch::Tensor TigerEncoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  auto h = x + drop(attn->forward(ln1->forward(x), mask), dropout, is_training());
  return h + drop(ff->forward(ln2->forward(h)), dropout, is_training());
}

TigerDecoderLayerImpl::TigerDecoderLayerImpl(const TigerOptions& o) : dropout(o.dropout()) {
  ln1 = register_module("ln1", layer_norm(o.d_model()));
  ln2 = register_module("ln2", layer_norm(o.d_model()));
  ln3 = register_module("ln3", layer_norm(o.d_model()));
  self_attn = register_module("self_attn", MultiHeadAttention(attn_options(o, false)));
  cross_attn = register_module("cross_attn", MultiHeadAttention(attn_options(o, true)));
  ff = register_module("ff", FeedForward(o.d_model(), o.d_ff(), o.dropout()));
}

torch::Tensor TigerDecoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& self_mask,
                                             const KeyValue& memory_kv,
                                             const torch::Tensor& memory_mask) {
  const bool tr = is_training();
  auto h = x + drop(self_attn->forward(ln1->forward(x), self_mask), dropout, tr);
  h = h + drop(cross_attn->attend(ln2->forward(h), memory_kv, memory_mask), dropout, tr);
  return h + drop(ff->forward(ln3->forward(h)), dropout, tr);
}

TigerImpl::TigerImpl(const TigerOptions& options)
    : options_(options),
      vocab_(options.code_vocab(), options.num_user_tokens(), options.num_item_tokens()) {
  reset();
}

void TigerImpl::reset() {
  const auto& o = options_;
  RECSYS_CHECK(!o.code_vocab().empty(), "TIGER needs the ID vocabulary per position");
  RECSYS_CHECK(o.d_model() > 0 && o.num_heads() > 0 && o.head_dim() > 0 && o.d_ff() > 0,
               "TIGER sizes must be positive");
  const int64_t d = o.d_model();
  embedding = register_module("embedding", torch::nn::Embedding(vocab_.size, d));
  const int64_t per_item = o.item_inputs() ? 1 : vocab_.tokens_per_item();
  enc_pos = register_module("enc_pos", torch::nn::Embedding(o.max_items() * per_item + 1, d));
  dec_pos = register_module("dec_pos", torch::nn::Embedding(vocab_.length(), d));
  encoder = register_module("encoder", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.encoder_layers(); ++i) encoder->push_back(TigerEncoderLayer(o));
  decoder = register_module("decoder", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.decoder_layers(); ++i) decoder->push_back(TigerDecoderLayer(o));
  enc_norm = register_module("enc_norm", layer_norm(d));
  dec_norm = register_module("dec_norm", layer_norm(d));
  head = register_module("head", torch::nn::Linear(d, vocab_.num_outputs));
  torch::NoGradGuard no_grad;
  for (auto* e : {&embedding, &enc_pos, &dec_pos}) (*e)->weight.normal_(0.0, 0.02);
}

TigerMemory TigerImpl::encode(const torch::Tensor& src) {
  const int64_t b = src.size(0), s = src.size(1);
  RECSYS_CHECK(s <= enc_pos->weight.size(0), "source longer than the model's maximum (", s, ")");
  torch::Tensor x, padding;
  if (options_.item_inputs()) {
    RECSYS_CHECK(src.dim() == 3 && src.size(2) == vocab_.tokens_per_item(),
                 "item inputs need a [batch, items, tokens per item] source");
    auto present = src.ne(TigerVocab::kPad).unsqueeze(-1);
    x = (embedding->forward(src) * present.to(embedding->weight.scalar_type())).sum(2);
    padding = src.select(2, 0).eq(TigerVocab::kPad);
  } else {
    RECSYS_CHECK(src.dim() == 2, "token inputs need a [batch, tokens] source");
    x = embedding->forward(src);
    padding = src.eq(TigerVocab::kPad);
  }
  auto pos = torch::arange(s - 1, -1, -1, src.options());  // distance from the newest position
  x = drop(x + enc_pos->forward(pos).unsqueeze(0), options_.dropout(), is_training());
  auto mask = torch::zeros({b, 1, 1, s}, x.options())
                  .masked_fill(padding.view({b, 1, 1, s}), internal::kMaskValue);
  for (const auto& layer : *encoder) x = layer->as<TigerEncoderLayer>()->forward(x, mask);
  x = enc_norm->forward(x);
  TigerMemory memory;
  memory.mask = mask;
  for (const auto& layer : *decoder) {
    memory.layer_kv.push_back(layer->as<TigerDecoderLayer>()->cross_attn->project_kv(x));
  }
  return memory;
}

torch::Tensor TigerImpl::embed_decoder_input(const torch::Tensor& tokens, int64_t position) {
  return embedding->forward(tokens) + dec_pos->weight[position];
}

torch::Tensor TigerImpl::head_log_probs(const torch::Tensor& h, int64_t position) {
  const int64_t off = vocab_.output_offset[position], v = vocab_.code_vocab[position];
  auto logits = torch::nn::functional::linear(h, head->weight.narrow(0, off, v),
                                              head->bias.narrow(0, off, v));
  return torch::log_softmax(logits.to(torch::kFloat), -1);
}

torch::Tensor TigerImpl::token_log_probs(const torch::Tensor& src, const torch::Tensor& codes) {
  const int64_t b = codes.size(0), l = codes.size(1);
  RECSYS_CHECK(l == vocab_.length(), "targets must have the ID length");
  TigerMemory memory = encode(src);
  // Decoder input: BOS, then the global tokens of codes 0..L-2.
  std::vector<torch::Tensor> cols = {torch::full({b, 1}, TigerVocab::kBos, codes.options())};
  for (int64_t p = 0; p + 1 < l; ++p) {
    cols.push_back(codes.narrow(1, p, 1) + vocab_.input_offset[p]);
  }
  auto dec_in = torch::cat(cols, 1);
  auto pos = torch::arange(l, codes.options());
  auto x = drop(embedding->forward(dec_in) + dec_pos->forward(pos).unsqueeze(0), options_.dropout(),
                is_training());
  auto mask = causal_mask(l, x.device());
  for (size_t i = 0; i < decoder->size(); ++i) {
    x = decoder[i]->as<TigerDecoderLayer>()->forward(x, mask, memory.layer_kv[i], memory.mask);
  }
  x = dec_norm->forward(x);
  std::vector<torch::Tensor> out;
  for (int64_t p = 0; p < l; ++p) {
    auto lp = head_log_probs(x.select(1, p), p);  // [B, V_p]
    out.push_back(lp.gather(1, codes.narrow(1, p, 1)));
  }
  return torch::cat(out, 1);
}

torch::Tensor TigerImpl::loss(const torch::Tensor& src, const torch::Tensor& codes) {
  return -token_log_probs(src, codes).mean();
}

TigerStepDecoder::TigerStepDecoder(Tiger model, const torch::Tensor& src)
    : model_(std::move(model)), batch_(src.size(0)) {
  memory_ = model_->encode(src);
  cache_.resize(model_->decoder->size());
}

namespace {
// Rows per decoding step are rounded up to a multiple of this with dummy rows: oneDNN compiles a
// kernel for every new matrix shape, and the number of live hypotheses changes at every step.
constexpr int64_t kRowBucket = 16;
int64_t bucketed(int64_t n) { return (n + kRowBucket - 1) / kRowBucket * kRowBucket; }
}  // namespace

torch::Tensor TigerStepDecoder::step(int64_t step, const torch::Tensor& input,
                                     const torch::Tensor& batch_index) {
  auto dev = model_->head->weight.device();
  const int64_t n = input.size(0);
  const int64_t m = bucketed(n);
  RECSYS_CHECK(n > 0 && batch_index.size(0) == n, "one batch index per row expected");
  RECSYS_CHECK(step == 0 || (cache_[0].k.defined() && cache_[0].k.size(0) == m),
               "reorder() must precede every step after the first");
  // Cross-attention layout: the rows of user b become query positions 0, 1, .. of b's memory,
  // padded to the largest count; the dummy rows fill free positions.
  const auto bi = batch_index.accessor<int64_t, 1>();
  std::vector<int64_t> count(batch_, 0), slot(m);
  int64_t per_user = 0;
  for (int64_t i = 0; i < n; ++i) {
    RECSYS_CHECK(bi[i] >= 0 && bi[i] < batch_ && (i == 0 || bi[i] >= bi[i - 1]),
                 "rows must be grouped by batch item");
    slot[i] = count[bi[i]]++;
    per_user = std::max(per_user, count[bi[i]]);
  }
  per_user = std::max(per_user, (m + batch_ - 1) / batch_);
  torch::Tensor slot_index;
  if (!(n == m && m == batch_ * per_user)) {
    for (int64_t i = 0; i < n; ++i) slot[i] += bi[i] * per_user;
    for (int64_t u = 0, i = n; u < batch_ && i < m; ++u) {
      for (int64_t s = count[u]; s < per_user && i < m; ++s) slot[i++] = u * per_user + s;
    }
    slot_index = torch::tensor(slot, torch::TensorOptions(torch::kLong)).to(dev);
  }
  auto tokens = torch::full({m}, TigerVocab::kBos, torch::TensorOptions(torch::kLong));
  if (step > 0) {
    tokens.narrow(0, 0, n).copy_(input + model_->vocab().input_offset[step - 1]);
    tokens.narrow(0, n, m - n).fill_(tokens[0].item<int64_t>());
  }
  auto x = model_->embed_decoder_input(tokens.to(dev), step).unsqueeze(1);  // [M, 1, d]
  const int64_t d = x.size(2);
  for (size_t i = 0; i < model_->decoder->size(); ++i) {
    auto layer = model_->decoder[i]->as<TigerDecoderLayer>();
    x = x + layer->self_attn->step(layer->ln1->forward(x), cache_[i]);
    auto q = layer->ln2->forward(x).view({m, d});
    x = x + layer->cross_attn
                ->attend_rows(q, memory_.layer_kv[i], memory_.mask, per_user, slot_index)
                .view({m, 1, d});
    x = x + layer->ff->forward(layer->ln3->forward(x));
  }
  x = model_->dec_norm->forward(x).squeeze(1);
  return model_->head_log_probs(x, step).narrow(0, 0, n);
}

void TigerStepDecoder::reorder(const torch::Tensor& parent) {
  const int64_t n = parent.size(0), m = bucketed(n);
  auto idx = torch::empty({m}, parent.options());
  idx.narrow(0, 0, n).copy_(parent);
  idx.narrow(0, n, m - n).fill_(parent[0].item<int64_t>());  // dummy rows
  idx = idx.to(model_->head->weight.device());
  for (auto& c : cache_) {
    c.k = c.k.index_select(0, idx);
    c.v = c.v.index_select(0, idx);
  }
}

torch::Tensor tiger_source(const TigerVocab& vocab, const IdMap& map,
                           const std::vector<Query>& queries, int64_t max_items, bool item_rows) {
  const int64_t l = vocab.length(), t = vocab.tokens_per_item();
  // Positions per item, and token slots per position.
  const int64_t per_item = item_rows ? 1 : t, slots = item_rows ? t : 1;
  int64_t width = 1;
  for (const auto& q : queries) {
    width = std::max<int64_t>(width, 1 + std::min<int64_t>(q.history.size(), max_items) * per_item);
  }
  const int64_t rows = static_cast<int64_t>(queries.size());
  auto src = item_rows ? torch::zeros({rows, width, t}, torch::kLong)
                       : torch::zeros({rows, width}, torch::kLong);
  static_assert(TigerVocab::kPad == 0, "the source is zero-filled");
  int64_t* data = src.data_ptr<int64_t>();
  for (size_t r = 0; r < queries.size(); ++r) {
    const auto& h = queries[r].history;
    const int64_t n = std::min<int64_t>(h.size(), max_items);
    int64_t* row = data + r * width * slots;
    int64_t col = (width - (1 + n * per_item)) * slots;
    row[col] = vocab.user_token(queries[r].user);
    col += slots;
    for (size_t i = h.size() - n; i < h.size(); ++i) {
      RECSYS_CHECK(h[i] < map.ids.size(), "item ", h[i], " has no semantic ID");
      const SemanticId& id = map.ids[h[i]];
      for (int64_t p = 0; p < l; ++p) row[col++] = vocab.input_offset[p] + id[p];
      if (t > l) row[col++] = vocab.item_token(h[i]);
    }
  }
  return src;
}

// ---------------------------------------------------------------------------------------------
namespace internal {
namespace {

class TigerAdapter : public ModelAdapter {
 public:
  TigerAdapter(const ModelConfig& config, size_t num_items, const IdMap* map, torch::Device device)
      : ModelAdapter(config, num_items, device), map_(map) {
    RECSYS_CHECK(map != nullptr, "the TIGER model needs a semantic-ID map");
    RECSYS_CHECK(map->num_items() == num_items, "ID map '", map->name, "' covers ",
                 map->num_items(), " items, the dataset has ", num_items);
    std::vector<int64_t> vocab(map->vocab.begin(), map->vocab.end());
    const auto& c = config.tiger;
    model_ = Tiger(TigerOptions(vocab)
                       .num_user_tokens(c.num_user_tokens)
                       .max_items(c.max_items)
                       .d_model(c.d_model)
                       .num_heads(c.num_heads)
                       .head_dim(c.head_dim)
                       .d_ff(c.d_ff)
                       .encoder_layers(c.encoder_layers)
                       .decoder_layers(c.decoder_layers)
                       .dropout(c.dropout)
                       .item_inputs(c.encoder_input == "items")
                       .num_item_tokens(c.item_ids ? static_cast<int64_t>(num_items) : 0));
    model_->to(device_);
    set_root(*model_);
    trie_ = std::make_unique<PrefixTrie>(PrefixTrie::from_id_map(*map));
  }

  std::string name() const override { return "tiger"; }

  ConfigMap identity() const override {
    uint64_t h = kFnv1aBasis;  // over the ID tokens
    for (const auto& id : map_->ids) {
      for (Token t : id) h = fnv1a_step(h, t);
    }
    std::string vocab;
    for (size_t i = 0; i < map_->vocab.size(); ++i) {
      vocab += (i ? "," : "") + std::to_string(map_->vocab[i]);
    }
    return {{"map.name", map_->name},
            {"map.vocab", vocab},
            {"map.hash", std::to_string(h)},
            {"num_items", std::to_string(num_items_)}};
  }

  void prepare_training(const Dataset& dataset) override {
    dataset_ = &dataset;
    samples_.clear();
    for (UserIndex u = 0; u < dataset.users.size(); ++u) {
      const size_t n = dataset.users[u].items.size();
      if (n < 4) continue;  // fewer than 2 training items: no (history, target) pair
      for (size_t end = 1; end + 2 < n; ++end) samples_.push_back({u, static_cast<uint32_t>(end)});
    }
  }
  size_t num_train_samples() const override { return samples_.size(); }
  size_t sample_length(size_t i) const override {
    return std::min<size_t>(samples_[i].end, config_.tiger.max_items);
  }

  int64_t loss_terms(const std::vector<uint32_t>& ids) const override {
    return static_cast<int64_t>(ids.size()) * static_cast<int64_t>(map_->length());
  }

  torch::Tensor loss(const std::vector<uint32_t>& ids) override {
    std::vector<Query> queries(ids.size());
    const int64_t l = map_->length();
    auto codes = torch::empty({static_cast<int64_t>(ids.size()), l}, torch::kLong);
    auto* c = codes.data_ptr<int64_t>();
    for (size_t i = 0; i < ids.size(); ++i) {
      const Sample& s = samples_[ids[i]];
      const auto& items = dataset_->users[s.user].items;
      const size_t first = s.end > static_cast<size_t>(config_.tiger.max_items)
                               ? s.end - config_.tiger.max_items
                               : 0;
      queries[i].user = s.user;
      queries[i].history.assign(items.begin() + first, items.begin() + s.end);
      const SemanticId& id = map_->ids[items[s.end]];
      for (int64_t p = 0; p < l; ++p) c[i * l + p] = id[p];
    }
    auto src = source(queries);
    return model_->loss(src.to(device_), codes.to(device_));
  }

  std::vector<std::vector<ScoredItem>> recommend(const std::vector<Query>& queries,
                                                 const RecommendOptions& options) override {
    c10::InferenceMode inference;
    const bool was_training = model_->is_training();
    model_->eval();
    std::vector<std::vector<ScoredItem>> out(queries.size());
    // Users searched with the same beam width together (a chunk is one search), and within a
    // width similar history lengths together: less padding.
    std::vector<size_t> order = order_by_history_length(queries);
    std::vector<size_t> widths(queries.size());
    for (size_t i = 0; i < queries.size(); ++i) widths[i] = beam_width(queries[i], options);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return widths[a] < widths[b]; });
    std::vector<std::pair<size_t, size_t>> chunks;  // [lo, hi) of `order`, one width each
    for (size_t lo = 0; lo < order.size();) {
      size_t hi = lo + 1;
      while (hi < order.size() && hi - lo < kDecodeChunk && widths[order[hi]] == widths[order[lo]])
        ++hi;
      chunks.emplace_back(lo, hi);
      lo = hi;
    }
    const bool bf16 = internal::parse_precision(options.precision);
    // Every beam width and history length brings new kernel shapes; room for all of them avoids
    // evictions (internal/kernel_retry.h).
    if (bf16 && device_.is_cpu()) {
      internal::reserve_onednn_primitive_cache(internal::kBf16KernelCacheCapacity);
    }
    // With several threads, each decodes every n-th chunk single-threaded (internal/parallel.h).
    const int64_t num_chunks = static_cast<int64_t>(chunks.size());
    const int64_t shards =
        device_.is_cpu() ? std::min<int64_t>(internal::shard_threads(), num_chunks) : 1;
    internal::run_shards(shards, [&](int64_t shard) {
      c10::InferenceMode inference_here;
      internal::AutocastGuard autocast(bf16, device_);
      for (int64_t c = shard; c < num_chunks; c += shards) {
        const auto [lo, hi] = chunks[static_cast<size_t>(c)];
        internal::with_fp32_fallback(
            "decoding",
            [&](bool fp32) {
              internal::AutocastOffGuard products_in_fp32(fp32, device_);
              decode_chunk(queries, order, lo, hi, widths[order[lo]], options, out);
            },
            [&] {
              for (size_t i = lo; i < hi; ++i) out[order[i]].clear();
            });
      }
    });
    if (was_training) model_->train();
    return out;
  }

 private:
  static constexpr size_t kDecodeChunk = 32;  // users per beam search

  torch::Tensor source(const std::vector<Query>& queries) const {
    return tiger_source(model_->vocab(), *map_, queries, config_.tiger.max_items,
                        model_->options().item_inputs());
  }

  // The beam width `q` is searched with. The search returns at most that many items, and with
  // exclude_history each of the user's history items may take a place: the beam is widened to
  // top_k, plus the user's distinct history items (rounded up to a multiple of 8: fewer widths,
  // fewer kernel shapes), so that top_k items are left (or the whole catalogue). It depends on
  // the query alone, so a user's results do not change with who is decoded beside them.
  size_t beam_width(const Query& q, const RecommendOptions& options) const {
    size_t width = std::max<size_t>(static_cast<size_t>(options.beam_size), options.top_k);
    if (options.exclude_history) {
      std::vector<ItemIndex> h = q.history;
      std::sort(h.begin(), h.end());
      const size_t distinct = std::unique(h.begin(), h.end()) - h.begin();
      width += (distinct + 7) / 8 * 8;
    }
    return std::min(width, trie_->num_items());
  }

  // Decodes queries[order[lo .. hi)] into out[order[i]], with a beam of `width`.
  void decode_chunk(const std::vector<Query>& queries, const std::vector<size_t>& order, size_t lo,
                    size_t hi, size_t width, const RecommendOptions& options,
                    std::vector<std::vector<ScoredItem>>& out) {
    std::vector<Query> batch;
    for (size_t i = lo; i < hi; ++i) batch.push_back(queries[order[i]]);
    ConstrainedBeamSearch search(*trie_, {static_cast<int64_t>(width)});
    auto src = source(batch).to(device_);
    TigerStepDecoder decoder(model_, src);
    auto hyps = search.search(decoder, static_cast<int64_t>(batch.size()));
    for (size_t i = lo; i < hi; ++i) {
      auto& res = out[order[i]];
      const auto& history = queries[order[i]].history;
      for (const auto& h : hyps[i - lo]) {
        if (res.size() >= options.top_k) break;
        if (options.exclude_history &&
            std::find(history.begin(), history.end(), h.item) != history.end()) {
          continue;
        }
        res.push_back({h.item, h.score});
      }
    }
  }

  struct Sample {
    UserIndex user;
    uint32_t end;  // target = items[end], history = items[.. end)
  };
  const IdMap* map_;
  Tiger model_{nullptr};
  std::unique_ptr<PrefixTrie> trie_;
  const Dataset* dataset_ = nullptr;
  std::vector<Sample> samples_;
};

}  // namespace

std::unique_ptr<ModelAdapter> make_tiger(const ModelConfig& config, size_t num_items,
                                         const IdMap* map, torch::Device device) {
  return std::make_unique<TigerAdapter>(config, num_items, map, device);
}

}  // namespace internal
}  // namespace recsys::seqrec
