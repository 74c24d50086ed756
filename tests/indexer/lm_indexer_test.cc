#include "indexer/lm_indexer.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "indexer/cluster_metrics.h"
#include "indexer/collision_suffix.h"
#include "indexer/indexer.h"
#include "indexer/lm_indexer_model.h"
#include "indexer/lm_indexer_trainer.h"
#include "indexer/word_embeddings.h"
#include "recsys/error.h"

namespace recsys::indexer {
namespace {

// Four planted topics, each with its own words; every item mixes 4 words of its topic with two
// shared filler words, so only the topic words tell items apart.
struct Corpus {
  std::vector<std::string> texts;
  std::vector<uint64_t> topics;
};

Corpus planted_corpus(int per_topic = 60, uint64_t seed = 7) {
  const std::vector<std::vector<std::string>> words = {
      {"shampoo", "conditioner", "scalp", "curls", "frizz", "keratin", "dandruff", "braid"},
      {"lipstick", "mascara", "eyeliner", "blush", "bronzer", "palette", "gloss", "brow"},
      {"nailpolish", "cuticle", "manicure", "lacquer", "topcoat", "acetone", "gel", "file"},
      {"fragrance", "perfume", "cologne", "musk", "vanilla", "citrus", "floral", "sandalwood"}};
  const std::vector<std::string> filler = {"deluxe", "set", "pack", "new", "travel", "size"};
  std::mt19937_64 rng(seed);
  Corpus c;
  for (int i = 0; i < per_topic; ++i)
    for (size_t t = 0; t < words.size(); ++t) {
      std::string text;
      for (int w = 0; w < 4; ++w) text += words[t][rng() % words[t].size()] + " ";
      text += filler[rng() % filler.size()] + " " + filler[rng() % filler.size()];
      c.texts.push_back(text);
      c.topics.push_back(t);
    }
  return c;
}

LMIndexerOptions small_options() {
  LMIndexerOptions o;
  o.id_length = 2;
  o.codebook_size = 4;
  o.tokenizer_vocab = 80;
  o.max_text_length = 12;
  o.d_model = 32;
  o.heads = 2;
  o.encoder_layers = 1;
  o.feedforward = 64;
  o.warmup_epochs = 4;
  o.epochs = 12;
  o.batch_size = 16;
  o.mask_rate = 0.8;  // topic words left visible would make the codes unnecessary
  o.mask_rate_step = 0.1;
  o.learning_rate = 3e-3;
  o.kmeans_iterations = 20;
  o.threads = 1;
  o.log_interval_seconds = 1e9;
  o.seed = 3;
  return o;
}

std::vector<uint64_t> first_codes(const std::vector<SemanticId>& codes) {
  std::vector<uint64_t> out;
  for (const auto& c : codes) out.push_back(c.at(0));
  return out;
}

std::string temp_path(const std::string& name) { return testing::TempDir() + "/" + name; }

// One full training run shared by the tests that only read its result.
class LMIndexerTrainedTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    corpus_ = new Corpus(planted_corpus());
    indexer_ = new LMIndexer(LMIndexer::train(corpus_->texts, small_options()));
  }
  static void TearDownTestSuite() {
    delete indexer_;
    delete corpus_;
  }
  static Corpus* corpus_;
  static LMIndexer* indexer_;
};
Corpus* LMIndexerTrainedTest::corpus_ = nullptr;
LMIndexer* LMIndexerTrainedTest::indexer_ = nullptr;

TEST_F(LMIndexerTrainedTest, FirstCodesRecoverPlantedTopics) {
  ASSERT_TRUE(indexer_->complete());
  const auto codes = indexer_->codes();
  ASSERT_EQ(codes.size(), corpus_->texts.size());
  for (const auto& c : codes) ASSERT_EQ(c.size(), 2u);
  const double ami = adjusted_mutual_information(corpus_->topics, first_codes(codes));
  RecordProperty("first_code_ami", std::to_string(ami));
  EXPECT_GT(ami, 0.35) << "position-1 codes should recover the planted topics";
  // Random codes of the same shape score about 0.
  std::mt19937_64 rng(1);
  std::vector<uint64_t> random_codes(codes.size());
  for (auto& r : random_codes) r = rng() % 4;
  EXPECT_LT(adjusted_mutual_information(corpus_->topics, random_codes), 0.05);
}

TEST_F(LMIndexerTrainedTest, ReconstructionLossFalls) {
  const auto& h = indexer_->history();
  ASSERT_EQ(h.size(), 2u * (4 + 12));
  EXPECT_EQ(h.front().phase, "warmup");
  EXPECT_EQ(h[4].phase, "joint");
  // Position 1: the joint phase, with codes to read, ends below the warm-up loss.
  EXPECT_LT(h[15].reconstruction, h[0].reconstruction);
  EXPECT_LT(h[15].reconstruction, h[4].reconstruction);
  for (const auto& e : h) {
    EXPECT_GT(e.items_per_second, 0);
    if (e.phase == "warmup") EXPECT_EQ(e.contrastive, 0);
  }
  EXPECT_EQ(h[0].commitment, 0);   // nothing to commit to at position 1
  EXPECT_GT(h[20].commitment, 0);  // position 2 keeps position 1 stable
}

TEST_F(LMIndexerTrainedTest, IdsUniqueAfterSuffixAndNewItemsGetCodes) {
  CollisionStats stats;
  const IdMap map = make_id_map("lmindexer", "lmindexer", indexer_->codes(), {4, 4}, &stats);
  EXPECT_NO_THROW(map.validate());
  EXPECT_EQ(map.length(), 3u);
  const auto& ps = indexer_->position_stats();
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_GE(ps[0].codes_used, 3u);
  // New texts get full-length codes from the trained model, without retraining; a new text of a
  // topic lands on a first code that items of that topic hold.
  std::map<uint64_t, std::map<Token, int>> votes;
  const auto codes = indexer_->codes();
  for (size_t i = 0; i < codes.size(); ++i) votes[corpus_->topics[i]][codes[i][0]]++;
  const auto assigned = indexer_->assign(
      {"lipstick mascara blush gloss new set", "shampoo scalp curls frizz travel size"});
  ASSERT_EQ(assigned.size(), 2u);
  EXPECT_EQ(assigned[0].size(), 2u);
  EXPECT_GT(votes[1][assigned[0][0]], 0);
  EXPECT_GT(votes[0][assigned[1][0]], 0);
  // The final reassignment changed few items (commitment keeps earlier codes stable) and left
  // the stored codes equal to the regenerated ones.
  const auto& re = indexer_->reassign_stats();
  ASSERT_TRUE(re.done);
  EXPECT_EQ(re.items, corpus_->texts.size());
  EXPECT_LT(re.fraction_changed(), 0.3);
  EXPECT_EQ(indexer_->drift(), 0.0);
}

TEST(PrefixGroupedBatchesTest, GroupsItemsSharingAPrefix) {
  std::vector<SemanticId> prefixes;
  for (int i = 0; i < 50; ++i) prefixes.push_back({Token(i % 3), Token(i % 2)});
  const auto batches = prefix_grouped_batches(prefixes, 8, 11);
  std::vector<int64_t> stream;
  for (const auto& b : batches) {
    EXPECT_LE(b.size(), 8u);
    stream.insert(stream.end(), b.begin(), b.end());
  }
  ASSERT_EQ(stream.size(), 50u);
  EXPECT_EQ(std::set<int64_t>(stream.begin(), stream.end()).size(), 50u);
  // Each prefix occupies one contiguous run of the stream: 6 groups, 6 runs.
  int runs = 1;
  for (size_t i = 1; i < stream.size(); ++i) runs += prefixes[stream[i]] != prefixes[stream[i - 1]];
  EXPECT_EQ(runs, 6);
  EXPECT_EQ(prefix_grouped_batches(prefixes, 8, 11), batches);
  EXPECT_NE(prefix_grouped_batches(prefixes, 8, 12), batches);
}

TEST(SamePrefixMaskTest, MarksExactlyTheItemsSharingThePrefix) {
  const auto prefix = torch::tensor({3, 1, 3, 2, 3, 1, 0, 1}, torch::kLong).reshape({4, 2});
  // rows: (3,1) (3,2) (3,1) (0,1)
  const auto mask = same_prefix_mask(prefix);
  const std::vector<std::vector<bool>> expected = {{true, false, true, false},
                                                   {false, true, false, false},
                                                   {true, false, true, false},
                                                   {false, false, false, true}};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(mask[i][j].item<bool>(), expected[i][j]) << i << j;
  EXPECT_TRUE(same_prefix_mask(torch::zeros({5, 0}, torch::kLong)).all().item<bool>());
}

TEST(ContrastiveLossTest, OnlyAllowedNegativesCount) {
  torch::manual_seed(0);
  const auto a = torch::randn({4, 8});
  auto b = torch::randn({4, 8});
  const auto allowed = same_prefix_mask(torch::tensor({0, 1, 0, 1}, torch::kLong).reshape({4, 1}));
  const double base = contrastive_loss(a, b, allowed, 0.5).item<double>();
  auto b_other = b.clone();
  b_other[1] = torch::randn({8}) * 5;  // row 1 is not a negative of rows 0 and 2 ...
  b_other[3] = torch::randn({8}) * 5;  // ... but rows 1 and 3 are each other's negatives
  // InfoNCE by hand: row i's logits are cos(a_i, b_j) / 0.5 over j = i and the allowed j; the
  // loss is the mean over rows of log-sum-exp minus the positive's logit.
  auto by_hand = [&](const torch::Tensor& bb) {
    double total = 0;
    for (int64_t i = 0; i < 4; ++i) {
      double z = 0, positive = 0;
      for (int64_t j = 0; j < 4; ++j) {
        if (j != i && !allowed[i][j].item<bool>()) continue;
        const double logit = (a[i] * bb[j]).sum().item<double>() /
                             (a[i].norm().item<double>() * bb[j].norm().item<double>()) / 0.5;
        z += std::exp(logit);
        if (j == i) positive = logit;
      }
      total += std::log(z) - positive;
    }
    return total / 4;
  };
  EXPECT_NEAR(base, by_hand(b), 1e-5);
  const double other = contrastive_loss(a, b_other, allowed, 0.5).item<double>();
  EXPECT_NEAR(other, by_hand(b_other), 1e-5);
  EXPECT_NE(base, other);
  // No negative at all: zero loss.
  const auto alone = torch::zeros({4, 4}, torch::kBool);
  EXPECT_NEAR(contrastive_loss(a, b, alone, 0.5).item<double>(), 0.0, 1e-6);
  // Matching views score lower than mismatched ones.
  const auto all = torch::ones({4, 4}, torch::kBool);
  EXPECT_LT(contrastive_loss(a, a, all, 0.1).item<double>(),
            contrastive_loss(a, a.flip(0), all, 0.1).item<double>());
}

TEST(MaskTokensTest, MasksNonPaddingAtRoughlyTheRate) {
  torch::manual_seed(5);
  const auto tokens = torch::randint(4, 50, {64, 20}, torch::kLong);
  auto padding = torch::zeros({64, 20}, torch::kBool);
  padding.slice(1, 15, 20).fill_(true);
  padding[0].slice(0, 1, 20).fill_(true);  // a one-token text
  const auto m = mask_tokens(tokens, padding, 0.7, 99);
  EXPECT_FALSE(m.masked.logical_and(padding).any().item<bool>());
  EXPECT_TRUE(m.masked.any(1).all().item<bool>());  // at least one per row
  EXPECT_TRUE((m.tokens == 99).eq(m.masked).all().item<bool>());
  const double rate = m.masked.sum().item<double>() / (~padding).sum().item<double>();
  EXPECT_NEAR(rate, 0.7, 0.06);
}

// Parameter snapshot by name.
std::map<std::string, torch::Tensor> snapshot(LMIndexerModel& model) {
  std::map<std::string, torch::Tensor> s;
  for (const auto& p : model->named_parameters()) s[p.key()] = p.value().detach().clone();
  return s;
}

// Names whose tensors changed between two snapshots.
std::set<std::string> changed(const std::map<std::string, torch::Tensor>& a,
                              const std::map<std::string, torch::Tensor>& b) {
  std::set<std::string> out;
  for (const auto& [name, t] : a)
    if (!torch::equal(t, b.at(name))) out.insert(name);
  return out;
}

bool all_start_with(const std::set<std::string>& names, const std::string& prefix) {
  for (const auto& n : names)
    if (n.rfind(prefix, 0) != 0) return false;
  return true;
}

TEST(LMIndexerScheduleTest, EachStageTrainsOnlyItsParameters) {
  const Corpus c = planted_corpus(20);
  LMIndexerOptions o = small_options();
  o.codebook_size = 4;
  LMIndexerTrainer tr(c.texts, o);
  auto& model = tr.model();
  const std::string cb0 = "encoder.codebook_0", cb1 = "encoder.codebook_1";

  // Position 1 warm-up: reconstructor and encoder network, no codebook.
  auto s0 = snapshot(model);
  tr.train_epoch(0, LMIndexerPhase::kWarmup, 0);
  auto s1 = snapshot(model);
  auto ch = changed(s0, s1);
  EXPECT_TRUE(ch.count("reconstructor.output.weight"));
  EXPECT_TRUE(ch.count("encoder.start"));
  EXPECT_FALSE(ch.count(cb0));
  EXPECT_FALSE(ch.count(cb1));

  // k-means initialisation writes codebook 1 only.
  tr.init_codebook(0);
  auto s2 = snapshot(model);
  EXPECT_EQ(changed(s1, s2), std::set<std::string>{cb0});

  // Joint training at position 1: encoder network, codebook 1, reconstructor; not codebook 2.
  tr.train_epoch(0, LMIndexerPhase::kJoint, 0);
  auto s3 = snapshot(model);
  ch = changed(s2, s3);
  EXPECT_TRUE(ch.count(cb0));
  EXPECT_FALSE(ch.count(cb1));
  EXPECT_TRUE(ch.count("encoder.start"));
  EXPECT_TRUE(ch.count("reconstructor.output.weight"));
  tr.assign_codes(0);
  EXPECT_TRUE((tr.code_tensor().select(1, 0) >= 0).all().item<bool>());
  EXPECT_TRUE((tr.code_tensor().select(1, 1) == -1).all().item<bool>());

  // Position 2 warm-up: no codebook moves.
  tr.train_epoch(1, LMIndexerPhase::kWarmup, 0);
  auto s4 = snapshot(model);
  ch = changed(s3, s4);
  EXPECT_FALSE(ch.count(cb0));
  EXPECT_FALSE(ch.count(cb1));
  EXPECT_TRUE(ch.count("reconstructor.output.weight"));

  // Position 2 joint: codebook 1 frozen, codebook 2 trained.
  tr.init_codebook(1);
  auto s5 = snapshot(model);
  tr.train_epoch(1, LMIndexerPhase::kJoint, 0);
  auto s6 = snapshot(model);
  ch = changed(s5, s6);
  EXPECT_FALSE(ch.count(cb0));
  EXPECT_TRUE(ch.count(cb1));
  EXPECT_TRUE(ch.count("encoder.start"));
}

TEST(LMIndexerScheduleTest, ReconstructorOnlyWarmupLeavesEncoderFrozen) {
  const Corpus c = planted_corpus(10);
  LMIndexerOptions o = small_options();
  o.warmup_encoder = false;  // the paper's warm-up
  LMIndexerTrainer tr(c.texts, o);
  auto s0 = snapshot(tr.model());
  tr.train_epoch(0, LMIndexerPhase::kWarmup, 0);
  const auto ch = changed(s0, snapshot(tr.model()));
  EXPECT_FALSE(ch.empty());
  EXPECT_TRUE(all_start_with(ch, "reconstructor.")) << *ch.begin();
}

TEST(LMIndexerResumeTest, ResumedRunEqualsUninterruptedRun) {
  const Corpus c = planted_corpus(20);
  LMIndexerOptions o = small_options();
  o.epochs = 2;
  const LMIndexer full = LMIndexer::train(c.texts, o);

  const std::string ckpt = temp_path("lmindexer_resume_test.ckpt");
  std::remove(ckpt.c_str());
  LMIndexerOptions interrupted = o;
  interrupted.checkpoint_path = ckpt;
  // 4 warm-up epochs and 2 joint ones per position: 5 epochs stop inside position 1's joint phase
  // (the codebook exists and is in the optimizer state) ...
  interrupted.stop_after_epochs = 5;
  LMIndexer first = LMIndexer::train(c.texts, interrupted);
  EXPECT_FALSE(first.complete());
  EXPECT_EQ(first.trainer().state().position, 0);
  EXPECT_EQ(first.trainer().state().phase, LMIndexerPhase::kJoint);
  EXPECT_EQ(first.trainer().state().epoch, 1);
  interrupted.stop_after_epochs = 1;  // ... and 1 more at the start of position 2
  LMIndexer second = LMIndexer::train(c.texts, interrupted);
  EXPECT_FALSE(second.complete());
  EXPECT_EQ(second.trainer().state().position, 1);
  EXPECT_EQ(second.trainer().state().phase, LMIndexerPhase::kWarmup);
  EXPECT_EQ(second.trainer().state().epoch, 0);
  interrupted.stop_after_epochs = 0;
  LMIndexer resumed = LMIndexer::train(c.texts, interrupted);
  ASSERT_TRUE(resumed.complete());

  EXPECT_EQ(resumed.codes(), full.codes());
  auto a = snapshot(const_cast<LMIndexer&>(full).trainer().model());
  auto b = snapshot(resumed.trainer().model());
  EXPECT_TRUE(changed(a, b).empty());
  ASSERT_EQ(resumed.history().size(), full.history().size());
  for (size_t i = 0; i < full.history().size(); ++i)
    EXPECT_DOUBLE_EQ(resumed.history()[i].reconstruction, full.history()[i].reconstruction) << i;

  // The final checkpoint generates the same IDs for new items without retraining.
  const LMIndexer loaded = LMIndexer::load(ckpt);
  const std::vector<std::string> fresh = {"perfume musk vanilla floral pack new"};
  EXPECT_EQ(loaded.assign(fresh), resumed.assign(fresh));
  EXPECT_EQ(loaded.codes(), full.codes());

  // Other options or other texts are refused rather than silently mixed.
  LMIndexerOptions other = interrupted;
  other.learning_rate = 1e-2;
  EXPECT_THROW(LMIndexer::train(c.texts, other), Error);
  std::vector<std::string> other_texts = c.texts;
  other_texts[0] += " x";
  EXPECT_THROW(LMIndexer::train(other_texts, interrupted), Error);
  std::remove(ckpt.c_str());
}

TEST(LMIndexerCheckpointTest, RejectsMissingAndForeignFiles) {
  EXPECT_THROW(LMIndexer::load("/nonexistent/lmindexer.ckpt"), Error);
  const std::string path = temp_path("lmindexer_garbage.ckpt");
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("garbage", f);
  std::fclose(f);
  EXPECT_THROW(LMIndexer::load(path), Error);
  std::remove(path.c_str());
}

TEST(LMIndexerOptionsTest, ValidatesAndSerialises) {
  LMIndexerOptions o;
  EXPECT_NO_THROW(o.validate());
  EXPECT_DOUBLE_EQ(o.mask_rate_at(0), 0.5);
  EXPECT_DOUBLE_EQ(o.mask_rate_at(1), 0.7);
  EXPECT_DOUBLE_EQ(o.mask_rate_at(5), 0.9);
  EXPECT_NE(o.to_json().find("\"codebook_size\": 256"), std::string::npos);
  o.d_model = 30;
  o.heads = 4;
  EXPECT_THROW(o.validate(), Error);
  EXPECT_THROW(LMIndexer::train({"a", "b"}, small_options()), Error);  // K > items
  // Rates a larger maximum would cap everywhere, negative steps and clipping norms.
  auto rejects = [](auto set) {
    LMIndexerOptions bad;
    set(bad);
    EXPECT_THROW(bad.validate(), Error);
  };
  rejects([](LMIndexerOptions& b) { b.mask_rate = 0.95; });
  rejects([](LMIndexerOptions& b) { b.mask_rate_step = -0.5; });
  rejects([](LMIndexerOptions& b) { b.mask_rate_step = std::nan(""); });
  rejects([](LMIndexerOptions& b) { b.grad_clip = -1; });
  IndexerOptions io;
  io.rqvae_beta = -1;
  EXPECT_THROW(io.validate(), Error);
  io.rqvae_beta = 0.25;
  io.rqvae_hidden = {0};
  EXPECT_THROW(io.validate(), Error);
}

// A checkpoint that cannot be written is found before the training, not after its first epoch.
TEST(LMIndexerOptionsTest, UnwritableCheckpointFailsBeforeTraining) {
  LMIndexerOptions o = small_options();
  o.checkpoint_path = "/nonexistent/dir/x.ckpt";
  try {
    LMIndexer::train(planted_corpus(10).texts, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("directory '/nonexistent/dir'"), std::string::npos)
        << e.what();
  }
}

// --- issue 4 follow-up: final reassignment, encoder freeze, GloVe init, TorchScript encoder ---

// Options under which the planted run drifts: a high learning rate keeps moving the shared
// encoder while position 2 trains.
LMIndexerOptions drifting_options() {
  LMIndexerOptions o = small_options();
  o.warmup_epochs = 1;
  o.epochs = 3;
  o.learning_rate = 1e-2;
  o.commitment_weight = 0.0;
  return o;
}

TEST(LMIndexerReassignTest, StoredIdsEqualIdsAssignedFromTheCheckpoint) {
  const Corpus c = planted_corpus(20);
  LMIndexerOptions off = drifting_options();
  off.final_reassign = false;
  const LMIndexer kept = LMIndexer::train(c.texts, off);
  EXPECT_FALSE(kept.reassign_stats().done);
  const double drift_before = kept.drift();

  const std::string ckpt = temp_path("lmindexer_reassign_test.ckpt");
  std::remove(ckpt.c_str());
  LMIndexerOptions on = drifting_options();
  on.checkpoint_path = ckpt;
  const LMIndexer fixed = LMIndexer::train(c.texts, on);
  const auto& re = fixed.reassign_stats();
  ASSERT_TRUE(re.done);
  RecordProperty("drift_removed", std::to_string(re.fraction_changed()));
  // Both runs are identical up to the reassignment: it changed exactly the drifted items.
  size_t differ = 0;
  const auto a = kept.codes(), b = fixed.codes();
  for (size_t i = 0; i < a.size(); ++i) differ += a[i] != b[i];
  EXPECT_GT(differ, 0u) << "this setting should drift; the test would not see a missing fix";
  EXPECT_EQ(re.items_changed, differ);
  EXPECT_DOUBLE_EQ(re.fraction_changed(), drift_before);
  ASSERT_EQ(re.changed_per_position.size(), 2u);
  EXPECT_GE(re.items_changed, std::max(re.changed_per_position[0], re.changed_per_position[1]));

  // The stored IDs are what the saved checkpoint assigns to the same texts.
  EXPECT_EQ(fixed.drift(), 0.0);
  const LMIndexer loaded = LMIndexer::load(ckpt);
  EXPECT_EQ(loaded.assign(c.texts), fixed.codes());
  EXPECT_EQ(loaded.codes(), fixed.codes());
  EXPECT_TRUE(loaded.reassign_stats().done);
  EXPECT_EQ(loaded.reassign_stats().items_changed, re.items_changed);
  // Resuming the finished run does not reassign again.
  const LMIndexer resumed = LMIndexer::train(c.texts, on);
  EXPECT_EQ(resumed.codes(), fixed.codes());
  EXPECT_EQ(resumed.reassign_stats().items_changed, re.items_changed);
  std::remove(ckpt.c_str());
}

TEST(LMIndexerScheduleTest, FrozenEncoderStaysFixedAfterPositionN) {
  const Corpus c = planted_corpus(10);
  LMIndexerOptions o = small_options();
  o.freeze_encoder_after = 1;
  LMIndexerTrainer tr(c.texts, o);
  auto is_text_encoder = [](const std::string& n) {
    return n.rfind("encoder.token_embedding.", 0) == 0 ||
           n.rfind("encoder.position_embedding.", 0) == 0 || n.rfind("encoder.encoder.", 0) == 0;
  };
  auto s0 = snapshot(tr.model());
  tr.train_epoch(0, LMIndexerPhase::kWarmup, 0);
  tr.init_codebook(0);
  tr.train_epoch(0, LMIndexerPhase::kJoint, 0);
  tr.assign_codes(0);
  auto s1 = snapshot(tr.model());
  auto ch = changed(s0, s1);
  EXPECT_TRUE(ch.count("encoder.token_embedding.weight"));  // position 1 still trains it
  tr.train_epoch(1, LMIndexerPhase::kWarmup, 0);
  tr.init_codebook(1);
  tr.train_epoch(1, LMIndexerPhase::kJoint, 0);
  ch = changed(s1, snapshot(tr.model()));
  for (const auto& n : ch) EXPECT_FALSE(is_text_encoder(n)) << n;
  EXPECT_TRUE(ch.count("encoder.start"));  // the ID decoder keeps training
  EXPECT_TRUE(ch.count("encoder.codebook_1"));
  LMIndexerOptions bad = small_options();
  bad.freeze_encoder_after = 3;  // > id_length
  EXPECT_THROW(bad.validate(), Error);
}

std::string glove_fixture() {
  return std::string(RECSYS_FIXTURES_DIR) + "/glove/wink_planted_100d.json";
}

// The GloVe word of a piece, as documented on LMIndexerOptions::glove_path.
std::string piece_word(std::string piece) {
  const std::string mark = "\xE2\x96\x81";
  if (piece.rfind(mark, 0) == 0) piece.erase(0, mark.size());
  for (char& ch : piece) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return piece;
}

TEST(LMIndexerGloveTest, MatchedPiecesGetTheirWordVectors) {
  const Corpus c = planted_corpus(10);
  const WordEmbeddings vectors = WordEmbeddings::load(glove_fixture());
  for (const uint32_t d : {100u, 32u}) {
    LMIndexerOptions o = small_options();
    o.d_model = d;
    LMIndexerTrainer plain(c.texts, o);
    o.glove_path = glove_fixture();
    LMIndexerTrainer glove(c.texts, o);
    const Tokenizer& tok = glove.tokenizer();
    std::set<int64_t> expected;
    for (int id = 0; id < tok.vocab_size(); ++id)
      if (id != tok.pad_id() && !piece_word(tok.piece(id)).empty() &&
          vectors.find(piece_word(tok.piece(id))))
        expected.insert(id);
    ASSERT_GE(expected.size(), 5u);
    EXPECT_EQ(glove.glove_matched(), expected.size());

    const auto before = plain.model()->encoder->token_embedding_weight();
    const auto after = glove.model()->encoder->token_embedding_weight();
    const auto rec_after = glove.model()->reconstructor->token_embedding_weight();
    std::vector<int64_t> matched(expected.begin(), expected.end());
    double ratio = -1;
    for (int64_t id = 0; id < after.size(0); ++id) {
      if (!expected.count(id)) {  // unmatched rows keep the (same-seed) random init
        EXPECT_TRUE(torch::equal(after[id], before[id])) << id;
        continue;
      }
      EXPECT_FALSE(torch::equal(after[id], before[id])) << id;
      // The reconstructor's row is the same vector, scaled to that embedding's own init std.
      EXPECT_NEAR(torch::cosine_similarity(rec_after[id], after[id], 0).item<double>(), 1.0, 1e-5)
          << id;
      if (d == 100) {  // same width: the vector itself, one common scale for every row
        const auto word = piece_word(tok.piece(int(id)));
        const auto v = torch::from_blob(const_cast<float*>(vectors.find(word)), {100}).clone();
        const double r = (after[id].dot(v) / v.dot(v)).item<double>();
        EXPECT_NEAR((after[id] - r * v).abs().max().item<double>(), 0.0, 1e-4) << word;
        if (ratio < 0) ratio = r;
        EXPECT_NEAR(r, ratio, 1e-4 * ratio);
      }
    }
    // Scaled to the init std (padding row excluded; it is zero).
    auto keep = torch::ones({before.size(0)}, torch::kBool);
    keep[tok.pad_id()] = false;
    const double init_std = before.index({keep}).std().item<double>();
    const double rows_std = after.index_select(0, torch::tensor(matched)).std().item<double>();
    EXPECT_NEAR(rows_std, init_std, 1e-3 * init_std) << "d_model " << d;
  }
  LMIndexerOptions missing = small_options();
  missing.glove_path = "/nonexistent/glove.json";
  EXPECT_THROW(LMIndexerTrainer(c.texts, missing), Error);
}

// A tiny scripted text encoder honouring the contract forward(ids, mask) -> [B, T, H].
void save_script_encoder(const std::string& path, uint64_t seed, int64_t vocab = 256) {
  torch::manual_seed(seed);
  torch::jit::Module m("TinyTextEncoder");
  m.register_parameter("weight", torch::randn({vocab, 16}), false);
  m.register_parameter("mix", torch::randn({16, 16}) * 0.25, false);
  m.define(R"JIT(
def forward(self, ids, mask):
    x = torch.embedding(self.weight, ids)
    x = torch.tanh(torch.matmul(x, self.mix))
    return x * mask.unsqueeze(-1).float()
)JIT");
  m.save(path);
}

// An encoder whose table is smaller than the tokenizer is refused at once, even when item 0 (the
// first probe) uses only small ids: here it is empty.
TEST(LMIndexerScriptTest, RefusesAnEncoderSmallerThanTheTokenizer) {
  Corpus c = planted_corpus(10);
  c.texts[0] = "";
  const std::string script = temp_path("lmindexer_small_encoder.pt");
  save_script_encoder(script, 1, /*vocab=*/5);
  LMIndexerOptions o = small_options();
  o.encoder_script = script;
  try {
    LMIndexerTrainer trainer(c.texts, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--lm-tokenizer-model"), std::string::npos) << e.what();
  }
  std::remove(script.c_str());
}

TEST(LMIndexerScriptTest, TrainsThroughAScriptedEncoderAndRefusesAChangedFile) {
  const Corpus c = planted_corpus(10);
  const std::string script = temp_path("lmindexer_tiny_encoder.pt");
  const std::string ckpt = temp_path("lmindexer_script_test.ckpt");
  std::remove(ckpt.c_str());
  save_script_encoder(script, 1);
  const torch::Tensor original = torch::jit::load(script).attr("weight").toTensor();
  LMIndexerOptions o = small_options();
  o.warmup_epochs = 1;
  o.epochs = 2;
  o.encoder_script = script;
  o.checkpoint_path = ckpt;
  LMIndexer lm = LMIndexer::train(c.texts, o);
  ASSERT_TRUE(lm.complete());
  ASSERT_NE(lm.trainer().model()->encoder->script(), nullptr);
  // The built-in text encoder is not there; the projection is, and it trained.
  const auto names = snapshot(lm.trainer().model());
  EXPECT_FALSE(names.count("encoder.token_embedding.weight"));
  EXPECT_TRUE(names.count("encoder.script_projection.weight"));
  EXPECT_GT(lm.history().back().items_per_second, 0);
  // Frozen by default: the script's own weights did not move.
  EXPECT_TRUE(
      torch::equal(lm.trainer().model()->encoder->script()->attr("weight").toTensor(), original));
  const std::vector<std::string> fresh = {"perfume musk vanilla floral pack new"};
  const auto ids = lm.assign(fresh);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].size(), 2u);
  const LMIndexer loaded = LMIndexer::load(ckpt);
  EXPECT_EQ(loaded.assign(fresh), ids);
  EXPECT_EQ(loaded.assign(c.texts), lm.codes());

  // Another file under the same path: refused for assignment and for resuming.
  save_script_encoder(script, 2);
  EXPECT_THROW(LMIndexer::load(ckpt), Error);
  EXPECT_THROW(LMIndexer::train(c.texts, o), Error);

  // Fine-tuned: the script's weights train and travel in the checkpoint.
  save_script_encoder(script, 1);
  std::remove(ckpt.c_str());
  o.freeze_encoder_script = false;
  LMIndexer tuned = LMIndexer::train(c.texts, o);
  const auto tuned_weight = tuned.trainer().model()->encoder->script()->attr("weight").toTensor();
  EXPECT_FALSE(torch::equal(tuned_weight, original));
  const LMIndexer tuned_loaded = LMIndexer::load(ckpt);
  EXPECT_TRUE(torch::equal(const_cast<LMIndexer&>(tuned_loaded)
                               .trainer()
                               .model()
                               ->encoder->script()
                               ->attr("weight")
                               .toTensor(),
                           tuned_weight));
  EXPECT_EQ(tuned_loaded.assign(c.texts), tuned.codes());
  std::remove(ckpt.c_str());
  std::remove(script.c_str());
}

}  // namespace
}  // namespace recsys::indexer
