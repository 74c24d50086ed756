#include "sequential_rec/trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "recsys/error.h"
#include "sequential_rec/evaluator.h"
#include "sequential_rec/internal/batching.h"
#include "sequential_rec/internal/kernel_retry.h"
#include "sequential_rec/internal/model_adapter.h"
#include "sequential_rec/recommender.h"
#include "tests/seqrec/onednn_cache.h"
#include "tests/seqrec/synthetic.h"

namespace recsys::seqrec {
namespace {

namespace fs = std::filesystem;

ModelConfig tiny_tiger_config() {
  ModelConfig c;
  c.model = "tiger";
  c.tiger.num_user_tokens = 4;
  c.tiger.max_items = 5;
  c.tiger.d_model = 32;
  c.tiger.num_heads = 2;
  c.tiger.head_dim = 16;
  c.tiger.d_ff = 64;
  c.tiger.encoder_layers = 1;
  c.tiger.decoder_layers = 1;
  c.tiger.dropout = 0.0;
  return c;
}

ModelConfig tiny_sasrec_config(double dropout) {
  ModelConfig c;
  c.model = "sasrec";
  c.sasrec.d_model = 16;
  c.sasrec.max_len = 10;
  c.sasrec.dropout = dropout;
  return c;
}

TrainConfig quick_train_config() {
  TrainConfig t;
  t.threads = 1;
  t.seed = 5;
  t.batch_size = 32;
  t.lr = 3e-3;
  t.warmup_steps = 20;
  t.weight_decay = 0.0;
  t.log_interval_seconds = 1e9;
  t.eval.beam_size = 10;
  return t;
}

// Same items in the same order with bit-identical scores, for every query.
void expect_identical(const std::vector<std::vector<ScoredItem>>& a,
                      const std::vector<std::vector<ScoredItem>>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t q = 0; q < a.size(); ++q) {
    ASSERT_EQ(a[q].size(), b[q].size()) << "query " << q;
    for (size_t r = 0; r < a[q].size(); ++r) {
      EXPECT_EQ(a[q][r].item, b[q][r].item) << "query " << q;
      EXPECT_EQ(a[q][r].score, b[q][r].score) << "query " << q;
    }
  }
}

// The test split's queries (max_users of them, 0 = all) and the top 5 from a beam of 5: the
// probe under which two models are compared.
std::vector<Query> test_queries(const Dataset& ds, size_t max_users) {
  std::vector<Query> queries;
  std::vector<ItemIndex> targets;
  split_queries(ds, Split::kTest, max_users, &queries, &targets);
  return queries;
}

RecommendOptions top5() {
  RecommendOptions opt;
  opt.top_k = 5;
  opt.beam_size = 5;
  return opt;
}

fs::path temp_dir(const std::string& name) {
  fs::path p =
      fs::temp_directory_path() / ("seqrec_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}

// (encoder input, item tokens?)
class TigerEncoderInputTest : public ::testing::TestWithParam<std::tuple<const char*, bool>> {};
INSTANTIATE_TEST_SUITE_P(TokensItemsAndItemTokens, TigerEncoderInputTest,
                         ::testing::Values(std::make_tuple("tokens", false),
                                           std::make_tuple("items", false),
                                           std::make_tuple("items", true)));

TEST_P(TigerEncoderInputTest, TigerOverfitsTinyDatasetToNearPerfectRecall) {
  Dataset ds = testing::cyclic_dataset(30, 60, 8, 1);
  IdMap map = testing::random_id_map(30, {4, 4}, 3, 2);
  TrainConfig t = quick_train_config();
  t.max_epochs = 60;
  t.eval_every = 20;
  t.patience = 100;
  ModelConfig m = tiny_tiger_config();
  m.tiger.encoder_input = std::get<0>(GetParam());
  m.tiger.item_ids = std::get<1>(GetParam());
  auto result = train_recommender(ds, &map, m, t);
  ASSERT_TRUE(result.model);
  EvalConfig e;
  e.beam_size = 10;
  e.ks = {1, 10};
  auto test = evaluate(*result.model, ds, Split::kTest, e);
  EXPECT_GE(test.metrics.at("recall@10"), 0.95);
  EXPECT_GE(test.metrics.at("recall@1"), 0.9);
  EXPECT_EQ(test.users, 60u);
  // Per-user ranks: one per user, the test target, and they add up to the reported means.
  ASSERT_EQ(test.ranks.size(), 60u);
  double top1 = 0, top10 = 0;
  for (const auto& r : test.ranks) {
    EXPECT_EQ(r.target, ds.users[r.user].items.back());
    EXPECT_LT(r.rank, 10);
    top1 += r.rank == 0;
    top10 += r.rank >= 0;
  }
  EXPECT_DOUBLE_EQ(top1 / 60, test.metrics.at("recall@1"));
  EXPECT_DOUBLE_EQ(top10 / 60, test.metrics.at("recall@10"));
}

TEST(TrainerTest, SasRecOverfitsTinyDatasetToNearPerfectRecall) {
  Dataset ds = testing::cyclic_dataset(30, 60, 8, 1);
  ModelConfig c;
  c.model = "sasrec";
  c.sasrec.d_model = 32;
  c.sasrec.max_len = 10;
  c.sasrec.dropout = 0.0;
  TrainConfig t = quick_train_config();
  t.schedule = "constant";
  t.warmup_steps = 0;
  t.batch_size = 16;
  t.lr = 1e-2;
  t.max_epochs = 60;
  t.eval_every = 20;
  t.patience = 100;
  auto result = train_recommender(ds, nullptr, c, t);
  EvalConfig e;
  e.ks = {1, 10};
  auto test = evaluate(*result.model, ds, Split::kTest, e);
  EXPECT_GE(test.metrics.at("recall@1"), 0.9);
}

// Calls check(model) with a barely trained (2 steps) model of each kind on `ds` (30 items), for
// the tests of recommend()'s contract.
template <typename Check>
void for_each_tiny_model(const Dataset& ds, Check&& check) {
  IdMap map = testing::random_id_map(30, {4, 4}, 3, 4);
  TrainConfig t = quick_train_config();
  t.max_steps = 2;
  for (const ModelConfig& c : {tiny_tiger_config(), tiny_sasrec_config(0.0)}) {
    SCOPED_TRACE(c.model);
    auto result = train_recommender(ds, c.model == "tiger" ? &map : nullptr, c, t);
    check(*result.model);
  }
}

// Both models: k = 0 asks for nothing, and a history item the model does not know is a clear
// error rather than an out-of-range read.
TEST(TrainerTest, RecommendAsksForNothingAndRejectsUnknownItems) {
  const Dataset ds = testing::cyclic_dataset(30, 20, 6, 3);
  for_each_tiny_model(ds, [&](Recommender& model) {
    const std::vector<Query> queries = test_queries(ds, 3);
    RecommendOptions none = top5();
    none.top_k = 0;
    for (const auto& items : model.recommend(queries, none)) EXPECT_TRUE(items.empty());
    EXPECT_EQ(model.recommend(queries, top5())[0].size(), 5u);
    Query unknown = queries[0];
    unknown.history.push_back(30);
    try {
      model.recommend({unknown}, top5());
      FAIL() << "recommended after an item the model does not know";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("item 30"), std::string::npos) << e.what();
    }
  });
}

// Both models score items by their log-probability (recommender.h): over the whole catalogue the
// probabilities sum to one, so the two can be ensembled (ensemble.h).
TEST(TrainerTest, RecommendScoresAreLogProbabilities) {
  const Dataset ds = testing::cyclic_dataset(30, 20, 6, 3);
  for_each_tiny_model(ds, [&](Recommender& model) {
    RecommendOptions all;
    all.top_k = 30;
    all.beam_size = 30;
    for (const auto& items : model.recommend(test_queries(ds, 3), all)) {
      ASSERT_EQ(items.size(), 30u);
      double total = 0;
      for (const ScoredItem& s : items) total += std::exp(double(s.score));
      EXPECT_NEAR(total, 1.0, 1e-4);
    }
  });
}

// Both models give top_k items when the catalogue has them: TIGER widens a narrower beam, and
// with exclude_history also by the history items that may take places in it.
TEST(TrainerTest, RecommendFillsTopK) {
  const Dataset ds = testing::cyclic_dataset(30, 20, 8, 3);
  for_each_tiny_model(ds, [&](Recommender& model) {
    const std::vector<Query> queries = test_queries(ds, 4);
    RecommendOptions wide = top5();
    wide.top_k = 10;  // beam 5
    for (const auto& items : model.recommend(queries, wide)) EXPECT_EQ(items.size(), 10u);
    // 7 distinct history items of 30: all 23 others, none of the history.
    RecommendOptions rest = top5();
    rest.top_k = 23;
    rest.beam_size = 23;
    rest.exclude_history = true;
    const auto recs = model.recommend(queries, rest);
    for (size_t i = 0; i < queries.size(); ++i) {
      ASSERT_EQ(queries[i].history.size(), 7u);
      EXPECT_EQ(recs[i].size(), 23u);
      for (const auto& r : recs[i]) {
        EXPECT_EQ(std::count(queries[i].history.begin(), queries[i].history.end(), r.item), 0);
      }
    }
  });
}

// With exclude_history a user's recommendations do not depend on who else is decoded: TIGER's
// beam is widened by the user's own history, not by that of the others in its search.
TEST(TrainerTest, ExcludedHistoryResultsDoNotDependOnTheOtherUsers) {
  const Dataset ds = testing::cyclic_dataset(30, 20, 8, 3);
  for_each_tiny_model(ds, [&](Recommender& model) {
    Query few, many;  // equal lengths (the same padding): 2 and 16 distinct items
    for (ItemIndex i = 0; i < 16; ++i) {
      few.history.push_back(i % 2);
      many.history.push_back(i + 10);
    }
    RecommendOptions options = top5();
    options.exclude_history = true;
    const auto alone = model.recommend({few}, options);
    const auto beside = model.recommend({few, many}, options);
    ASSERT_EQ(alone[0].size(), 5u);
    ASSERT_EQ(beside[0].size(), 5u);
    for (size_t r = 0; r < 5; ++r) {
      EXPECT_EQ(alone[0][r].item, beside[0][r].item) << "rank " << r;
      EXPECT_NEAR(alone[0][r].score, beside[0][r].score, 1e-5) << "rank " << r;
    }
  });
}

class ResumeTest : public ::testing::TestWithParam<int> {};

// With 2 threads each batch is split into shards trained in parallel (internal/parallel.h).
TEST_P(ResumeTest, ResumeContinuesExactlyWhereItStopped) {
  Dataset ds = testing::cyclic_dataset(30, 60, 8, 3);
  IdMap map = testing::random_id_map(30, {4, 4}, 3, 4);
  ModelConfig c = tiny_tiger_config();
  c.tiger.dropout = 0.2;  // dropout consumes the RNG: its state must be restored too
  TrainConfig t = quick_train_config();
  t.threads = GetParam();
  t.max_epochs = 100;
  t.eval_every = 1000;  // no validation inside the runs
  t.max_steps = 23;     // 300 samples / 32 = 10 batches per epoch: stops mid-epoch 3
  const fs::path straight_dir = temp_dir("straight");
  const fs::path split_dir = temp_dir("split");

  t.out_dir = straight_dir.string();
  auto straight = train_recommender(ds, &map, c, t);

  t.out_dir = split_dir.string();
  t.max_steps = 12;
  auto first = train_recommender(ds, &map, c, t);
  EXPECT_EQ(first.steps, 12);
  EXPECT_FALSE(first.resumed);
  t.max_steps = 23;
  auto second = train_recommender(ds, &map, c, t);
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(second.steps, 23);
  EXPECT_EQ(second.last_loss, straight.last_loss);

  // Same weights: identical scores for every query.
  const std::vector<Query> queries = test_queries(ds, 10);
  const RecommendOptions opt = top5();
  auto a = straight.model->recommend(queries, opt);
  expect_identical(a, second.model->recommend(queries, opt));
  // A different seed gives a different model (the comparison above can fail).
  t.out_dir.clear();
  t.seed = 6;
  auto other = train_recommender(ds, &map, c, t);
  EXPECT_NE(other.last_loss, straight.last_loss);

  // The checkpoint loads back with the same scores.
  auto loaded = load_recommender(straight_dir.string(), &map);
  auto l = loaded->recommend(queries, opt);
  for (size_t q = 0; q < queries.size(); ++q) {
    ASSERT_EQ(l[q].size(), a[q].size());
    for (size_t r = 0; r < a[q].size(); ++r) EXPECT_EQ(l[q][r].score, a[q][r].score);
  }
  fs::remove_all(straight_dir);
  fs::remove_all(split_dir);
}

INSTANTIATE_TEST_SUITE_P(Threads, ResumeTest, ::testing::Values(1, 2));

// (step, validation N@10) of every validation in a checkpoint's training log.
std::vector<std::pair<int64_t, double>> validations(const fs::path& dir) {
  std::vector<std::pair<int64_t, double>> out;
  std::ifstream log(dir / "train_log.jsonl");
  std::string line;
  while (std::getline(log, line)) {
    const auto json = nlohmann::json::parse(line);
    if (json.contains("valid_ndcg@10"))
      out.emplace_back(json["step"].get<int64_t>(), json["valid_ndcg@10"].get<double>());
  }
  return out;
}

// A tiny TIGER run that validates after every epoch of 10 batches (300 samples / 32), with dropout
// (which draws on the RNG, whose state a resume restores too), stopped by a step limit.
struct ValidatingRun {
  Dataset ds = testing::cyclic_dataset(30, 60, 8, 3);
  IdMap map = testing::random_id_map(30, {4, 4}, 3, 4);
  ModelConfig c = tiny_tiger_config();
  TrainConfig t = quick_train_config();
  explicit ValidatingRun(int64_t max_steps) {
    c.tiger.dropout = 0.2;
    t.max_epochs = 100;
    t.eval_every = 1;
    t.patience = 100;
    t.max_steps = max_steps;
  }
};

// The stop flag (set by `recsys train` on SIGINT / SIGTERM) saves a checkpoint where training
// stands, mid-epoch or at an epoch's end, without validating; resuming gives the run that was never
// interrupted: the same weights and the same validations at the same steps.
TEST(TrainerTest, InterruptedRunResumesExactly) {
  ValidatingRun run(23);  // validations at steps 10 and 20
  auto& [ds, map, c, t] = run;
  const fs::path straight_dir = temp_dir("straight_interrupt");
  const fs::path split_dir = temp_dir("split_interrupt");
  t.out_dir = straight_dir.string();
  auto straight = train_recommender(ds, &map, c, t);

  t.out_dir = split_dir.string();
  std::atomic<bool> stop{true};
  auto first = train_recommender(ds, &map, c, t, &stop);
  EXPECT_EQ(first.stop_reason, "interrupted");
  EXPECT_EQ(first.steps, 1);
  ConfigMap state = read_checkpoint_state(t.out_dir);
  EXPECT_EQ(state.at("finished"), "0");
  EXPECT_EQ(state.at("batch"), "1");
  t.max_steps = 9;
  EXPECT_EQ(train_recommender(ds, &map, c, t).steps, 9);
  t.max_steps = 23;
  auto at_epoch_end = train_recommender(ds, &map, c, t, &stop);  // step 10 ends epoch 1
  EXPECT_EQ(at_epoch_end.stop_reason, "interrupted");
  EXPECT_EQ(at_epoch_end.steps, 10);
  state = read_checkpoint_state(t.out_dir);
  EXPECT_EQ(state.at("epoch"), "0");
  EXPECT_EQ(state.at("batch"), "10");
  EXPECT_TRUE(validations(split_dir).empty());  // epoch 1's validation waits for the resume
  stop = false;
  auto last = train_recommender(ds, &map, c, t, &stop);
  EXPECT_EQ(last.stop_reason, "max_steps");
  EXPECT_EQ(last.steps, 23);
  EXPECT_EQ(last.last_loss, straight.last_loss);
  const auto expected = validations(straight_dir);
  ASSERT_EQ(expected.size(), 2u);
  EXPECT_EQ(validations(split_dir), expected);
  {  // epoch 1's last batch ran before the interruption: its loss is unknown, not 0
    std::ifstream log(split_dir / "train_log.jsonl");
    std::string line;
    while (std::getline(log, line)) {
      const auto json = nlohmann::json::parse(line);
      if (json.contains("valid_ndcg@10") && json["step"] == 10) {
        EXPECT_TRUE(json["train_loss"].is_null());
      }
    }
  }

  const std::vector<Query> queries = test_queries(ds, 10);
  const RecommendOptions opt = top5();
  expect_identical(straight.model->recommend(queries, opt), last.model->recommend(queries, opt));
  fs::remove_all(straight_dir);
  fs::remove_all(split_dir);
}

// A run at its step limit goes no further when the same command runs again (no extra step, no
// extra validation); one interrupted in the step that reached its limit stops there on resume,
// validating where the uninterrupted run validated (here at the end of epoch 1).
TEST(TrainerTest, RunAtItsStepLimitStaysThere) {
  ValidatingRun run(10);  // the limit ends epoch 1
  auto& [ds, map, c, t] = run;
  const fs::path straight_dir = temp_dir("straight_limit");
  const fs::path split_dir = temp_dir("split_limit");
  t.out_dir = straight_dir.string();
  auto straight = train_recommender(ds, &map, c, t);
  ASSERT_EQ(straight.stop_reason, "max_steps");
  const auto expected = validations(straight_dir);
  ASSERT_EQ(expected.size(), 1u);
  ::testing::internal::CaptureStderr();
  auto again = train_recommender(ds, &map, c, t);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("has reached its step limit (step 10"), std::string::npos) << err;
  EXPECT_TRUE(again.resumed);
  EXPECT_EQ(again.stop_reason, "max_steps");
  EXPECT_EQ(again.steps, 10);
  EXPECT_EQ(read_checkpoint_state(t.out_dir).at("step"), "10");
  EXPECT_EQ(validations(straight_dir), expected);
  const std::vector<Query> queries = test_queries(ds, 10);
  const RecommendOptions opt = top5();
  const auto scores = straight.model->recommend(queries, opt);
  expect_identical(scores, again.model->recommend(queries, opt));

  t.out_dir = split_dir.string();
  t.max_steps = 9;
  ASSERT_EQ(train_recommender(ds, &map, c, t).steps, 9);
  t.max_steps = 10;
  std::atomic<bool> stop{true};  // checked after the step, before the limit
  auto interrupted = train_recommender(ds, &map, c, t, &stop);
  ASSERT_EQ(interrupted.stop_reason, "interrupted");
  ASSERT_EQ(interrupted.steps, 10);
  EXPECT_TRUE(validations(split_dir).empty());
  stop = false;
  auto resumed = train_recommender(ds, &map, c, t, &stop);
  EXPECT_EQ(resumed.stop_reason, "max_steps");
  EXPECT_EQ(resumed.steps, 10);
  EXPECT_EQ(validations(split_dir), expected);
  expect_identical(scores, resumed.model->recommend(queries, opt));
  fs::remove_all(straight_dir);
  fs::remove_all(split_dir);
}

// A step limit that a cooldown anneals to validates the annealed weights, also in the middle of an
// epoch: otherwise best.pt (what evaluate loads by default) would be from before the cooldown.
TEST(TrainerTest, StepLimitWithACooldownValidatesItsFinalWeights) {
  ValidatingRun run(15);
  auto& [ds, map, c, t] = run;
  t.cooldown_steps = 5;
  const fs::path dir = temp_dir("cooldown_final");
  t.out_dir = dir.string();
  auto result = train_recommender(ds, &map, c, t);
  EXPECT_EQ(result.stop_reason, "max_steps");
  const auto v = validations(dir);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].first, 10);
  EXPECT_EQ(v[1].first, 15);
  fs::remove_all(dir);
}

// A checkpoint's files commit together with state.ini: a save cut short before its commit is
// dropped, one cut short after it is completed, and files from different saves are refused. The
// training log loses what was written after the last commit.
TEST(TrainerTest, CheckpointSavesCutShortAreRecovered) {
  ValidatingRun run(20);
  auto& [ds, map, c, t] = run;
  const fs::path straight_dir = temp_dir("commit_straight");
  const fs::path dir = temp_dir("commit_split");
  t.out_dir = straight_dir.string();
  const auto straight = train_recommender(ds, &map, c, t);
  const auto expected = validations(straight_dir);
  ASSERT_EQ(expected.size(), 2u);

  t.out_dir = dir.string();
  auto to_step_15 = [&] {
    t.max_steps = 15;
    ASSERT_EQ(train_recommender(ds, &map, c, t).steps, 15);
    t.max_steps = 20;
  };
  to_step_15();
  // Cut short before the commit: a staged file of a later save, and log lines after the commit.
  { std::ofstream(dir / "last.pt.next") << "half a file"; }
  {
    std::ofstream(dir / "train_log.jsonl", std::ios::app) << "{\"step\":19,\"valid_ndcg@10\":1}\n";
  }
  auto resumed = train_recommender(ds, &map, c, t);
  EXPECT_FALSE(fs::exists(dir / "last.pt.next"));
  EXPECT_EQ(resumed.last_loss, straight.last_loss);
  EXPECT_EQ(validations(dir), expected);

  // Cut short after the commit: the weights were never moved into place.
  fs::remove_all(dir);
  to_step_15();
  fs::rename(dir / "last.pt", dir / "last.pt.next");
  { std::ofstream(dir / "last.pt") << "weights of another step"; }
  resumed = train_recommender(ds, &map, c, t);
  EXPECT_EQ(resumed.last_loss, straight.last_loss);
  EXPECT_EQ(validations(dir), expected);

  // Weights of a later save beside the state and optimizer of an earlier one.
  fs::remove_all(dir);
  to_step_15();
  const fs::path keep = temp_dir("commit_keep");
  fs::create_directories(keep);
  for (const char* name : {"state.ini", "optimizer.pt", "rng.pt"})
    fs::copy_file(dir / name, keep / name);
  t.max_steps = 18;
  ASSERT_EQ(train_recommender(ds, &map, c, t).steps, 18);
  for (const char* name : {"state.ini", "optimizer.pt", "rng.pt"})
    fs::copy_file(keep / name, dir / name, fs::copy_options::overwrite_existing);
  t.max_steps = 20;
  EXPECT_THROW(train_recommender(ds, &map, c, t), Error);
  fs::remove_all(keep);
  fs::remove_all(dir);
  fs::remove_all(straight_dir);
}

// A validation that fails (here: best.pt cannot be written) loses only itself: the epoch's steps
// were saved before it, and the resume runs it.
TEST(TrainerTest, FailedValidationKeepsTheEpoch) {
  ValidatingRun run(20);
  auto& [ds, map, c, t] = run;
  const fs::path straight_dir = temp_dir("failed_validation_straight");
  const fs::path dir = temp_dir("failed_validation");
  t.out_dir = straight_dir.string();
  const auto straight = train_recommender(ds, &map, c, t);
  t.out_dir = dir.string();
  fs::create_directories(dir / "best.pt" / "in_the_way");
  t.max_steps = 20;
  t.resume = true;
  // The fresh run removes a stale best.pt file, not a directory in its place: the first
  // validation's save of the best weights fails.
  EXPECT_ANY_THROW(train_recommender(ds, &map, c, t));
  const ConfigMap state = read_checkpoint_state(t.out_dir);
  ASSERT_TRUE(state.count("step"));
  EXPECT_EQ(state.at("step"), "10");
  EXPECT_EQ(state.at("batch"), "10");
  EXPECT_EQ(state.at("epoch"), "0");
  fs::remove_all(dir / "best.pt");
  const auto resumed = train_recommender(ds, &map, c, t);
  EXPECT_EQ(resumed.last_loss, straight.last_loss);
  EXPECT_EQ(validations(dir), validations(straight_dir));
  fs::remove_all(dir);
  fs::remove_all(straight_dir);
}

// --no-resume starts over: nothing of the previous run in the directory survives to be loaded.
TEST(TrainerTest, NewRunRemovesThePreviousRunsFiles) {
  ValidatingRun run(20);
  auto& [ds, map, c, t] = run;
  const fs::path dir = temp_dir("no_resume");
  t.out_dir = dir.string();
  train_recommender(ds, &map, c, t);
  ASSERT_TRUE(fs::exists(dir / "best.pt"));
  t.resume = false;
  t.max_steps = 3;
  t.seed = 7;
  const auto fresh = train_recommender(ds, &map, c, t);
  EXPECT_FALSE(fs::exists(dir / "best.pt"));
  EXPECT_TRUE(validations(dir).empty());
  const std::vector<Query> queries = test_queries(ds, 10);
  expect_identical(fresh.model->recommend(queries, top5()),
                   load_recommender(t.out_dir, &map, "cpu", CheckpointWeights::kBest)
                       ->recommend(queries, top5()));
  fs::remove_all(dir);
}

// The position inside an epoch belongs to the epoch's plan, which the seed and batch size draw.
TEST(TrainerTest, ResumeMidEpochRefusesAnotherBatchPlan) {
  ValidatingRun run(5);
  auto& [ds, map, c, t] = run;
  const fs::path dir = temp_dir("batch_plan");
  t.out_dir = dir.string();
  ASSERT_EQ(train_recommender(ds, &map, c, t).steps, 5);
  t.max_steps = 10;
  t.batch_size = 64;
  EXPECT_THROW(train_recommender(ds, &map, c, t), Error);
  t.batch_size = 32;
  t.seed = 6;
  EXPECT_THROW(train_recommender(ds, &map, c, t), Error);
  t.seed = 5;
  ASSERT_EQ(train_recommender(ds, &map, c, t).steps, 10);  // the end of epoch 1
  t.max_steps = 12;
  t.batch_size = 64;  // allowed between epochs (with a warning)
  EXPECT_EQ(train_recommender(ds, &map, c, t).steps, 12);
  fs::remove_all(dir);
}

TEST(TrainerTest, RejectsBadOptimizerSettings) {
  auto rejects = [](auto set) {
    TrainConfig t;
    set(t);
    EXPECT_THROW(t.validate(), Error);
  };
  rejects([](TrainConfig& t) { t.adam_beta2 = 1.0; });
  rejects([](TrainConfig& t) { t.weight_decay = -0.1; });
  rejects([](TrainConfig& t) { t.clip_norm = std::nan(""); });
  rejects([](TrainConfig& t) { t.clip_norm = -1; });
  rejects([](TrainConfig& t) { t.log_interval_seconds = 0; });
  rejects([](TrainConfig& t) { t.lr = std::numeric_limits<double>::infinity(); });
}

// SASRec hands out its item table (row i = item i, the padding row left out), the same after a
// reload from its checkpoint; TIGER has no vector per item.
TEST(TrainerTest, SasRecItemEmbeddings) {
  Dataset ds = testing::cyclic_dataset(30, 60, 8, 3);
  TrainConfig t = quick_train_config();
  t.max_steps = 5;
  t.eval_every = 1000;
  const fs::path dir = temp_dir("sasrec_embeddings");
  t.out_dir = dir.string();
  auto trained = train_recommender(ds, nullptr, tiny_sasrec_config(0.0), t);
  const ItemEmbeddings e = trained.model->item_embeddings();
  ASSERT_EQ(e.dims, 16);
  ASSERT_EQ(e.values.size(), 30u * 16);
  auto& module = dynamic_cast<internal::ModelAdapter&>(*trained.model).module();
  const torch::Tensor table = module.named_parameters()["item_emb.weight"];
  ASSERT_EQ(table.size(0), 31);  // padding row 0, then the items
  for (int64_t i = 0; i < 30; ++i) {
    for (int64_t d = 0; d < 16; ++d)
      ASSERT_EQ(e.values[i * 16 + d], table[i + 1][d].item<float>()) << "item " << i;
  }
  EXPECT_EQ(load_recommender(dir.string(), nullptr, "cpu", CheckpointWeights::kLast)
                ->item_embeddings()
                .values,
            e.values);

  IdMap map = testing::random_id_map(30, {4, 4}, 3, 4);
  auto tiger = internal::create_model(tiny_tiger_config(), 30, &map, torch::kCPU);
  try {
    tiger->item_embeddings();
    ADD_FAILURE() << "TIGER returned item embeddings";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kUnsupported);
  }
  fs::remove_all(dir);
}

// Sharding a batch over threads computes the same gradient as one pass over the whole batch (up to
// float rounding), for both models; sharded decoding returns exactly what one thread returns.
TEST(TrainerTest, ShardedTrainingMatchesOneThread) {
  Dataset ds = testing::cyclic_dataset(30, 60, 8, 3);
  IdMap map = testing::random_id_map(30, {4, 4}, 3, 4);
  ModelConfig sasrec;
  sasrec.model = "sasrec";
  sasrec.sasrec.d_model = 16;
  sasrec.sasrec.max_len = 6;
  sasrec.sasrec.dropout = 0.0;
  for (const ModelConfig& c : {tiny_tiger_config(), sasrec}) {
    TrainConfig t = quick_train_config();
    t.max_steps = 15;
    t.eval_every = 1000;
    t.threads = 1;
    auto one = train_recommender(ds, &map, c, t);
    t.threads = 2;
    auto two = train_recommender(ds, &map, c, t);
    EXPECT_NEAR(one.last_loss, two.last_loss, 1e-4 * std::abs(one.last_loss)) << c.model;
    EXPECT_NE(one.last_loss, 0.0);

    const std::vector<Query> queries = test_queries(ds, 0);
    const RecommendOptions opt = top5();
    torch::set_num_threads(1);
    auto serial = two.model->recommend(queries, opt);
    torch::set_num_threads(2);
    SCOPED_TRACE(c.model);
    expect_identical(serial, two.model->recommend(queries, opt));
  }
}

// Users of different lengths, so that batches need padding.
Dataset ragged_dataset() {
  Dataset ds = testing::cyclic_dataset(30, 60, 12, 4);
  for (size_t u = 0; u < ds.users.size(); ++u) {
    auto& user = ds.users[u];
    const size_t keep = 5 + u % 8;
    user.items.resize(keep);
    user.timestamps.resize(keep);
  }
  ds.finalize_stats();
  return ds;
}

// Final loss after 12 steps on ragged_dataset().
double loss_after_12_steps(const ModelConfig& c, int64_t length_groups, int threads,
                           uint64_t seed = 5) {
  static const Dataset ds = ragged_dataset();
  static const IdMap map = testing::random_id_map(30, {4, 4}, 3, 4);
  TrainConfig t = quick_train_config();
  t.max_steps = 12;
  t.eval_every = 1000;
  t.length_groups = length_groups;
  t.threads = threads;
  t.seed = seed;
  return train_recommender(ds, &map, c, t).last_loss;
}

// Every batch of an epoch has the batch size (the last one filled up from the epoch's start),
// every sample is in the epoch, and the plan is a pure function of (seed, epoch).
TEST(TrainerTest, EpochPlansUseFullBatchesAndEverySample) {
  for (size_t n : {size_t{1000}, size_t{1024}, size_t{257}}) {
    const auto plan = internal::plan_epoch(n, 42, 3, 256);
    ASSERT_EQ(plan.size(), (n + 255) / 256) << n;
    std::vector<int> seen(n, 0);
    for (const auto& batch : plan) {
      EXPECT_EQ(batch.size(), 256u) << n;
      for (uint32_t i : batch) ++seen[i];
    }
    size_t twice = 0;
    for (int c : seen) {
      EXPECT_GE(c, 1);
      EXPECT_LE(c, 2);
      twice += c == 2;
    }
    EXPECT_EQ(twice, plan.size() * 256 - n) << n;
    EXPECT_EQ(plan, internal::plan_epoch(n, 42, 3, 256));
    EXPECT_NE(plan, internal::plan_epoch(n, 42, 4, 256));
  }
  // Fewer samples than one batch: one batch of them all, none repeated.
  const auto small = internal::plan_epoch(20, 1, 0, 32);
  ASSERT_EQ(small.size(), 1u);
  EXPECT_EQ(small[0].size(), 20u);
}

// Warm-up, inverse-square-root decay and the linear cooldown before max_steps, by hand.
TEST(TrainerTest, LearningRateScheduleAndCooldown) {
  TrainConfig c;
  c.lr = 1e-3;
  c.warmup_steps = 100;
  EXPECT_DOUBLE_EQ(learning_rate(c, 50), 0.5e-3);
  EXPECT_DOUBLE_EQ(learning_rate(c, 100), 1e-3);
  EXPECT_DOUBLE_EQ(learning_rate(c, 400), 0.5e-3);  // sqrt(100 / 400)
  c.max_steps = 400;
  c.cooldown_steps = 4;
  c.validate();
  EXPECT_DOUBLE_EQ(learning_rate(c, 396), 1e-3 * std::sqrt(100.0 / 396));  // before the cooldown
  EXPECT_DOUBLE_EQ(learning_rate(c, 397), 1e-3 * std::sqrt(100.0 / 397));  // 4 of 4 steps left
  EXPECT_DOUBLE_EQ(learning_rate(c, 398), 1e-3 * std::sqrt(100.0 / 398) * 0.75);
  EXPECT_DOUBLE_EQ(learning_rate(c, 400), 0.5e-3 * 0.25);  // the last step still learns
  c.schedule = "constant";
  EXPECT_DOUBLE_EQ(learning_rate(c, 399), 1e-3 * 0.5);
  // An end step planned from a time budget: the earlier end wins.
  EXPECT_DOUBLE_EQ(learning_rate(c, 399, {399}), 1e-3 * 0.25);
  EXPECT_DOUBLE_EQ(learning_rate(c, 399, {500}), 1e-3 * 0.5);
  c.max_steps = 0;
  EXPECT_DOUBLE_EQ(learning_rate(c, 399), 1e-3);  // no end known yet: no cooldown
  EXPECT_DOUBLE_EQ(learning_rate(c, 399, {400}), 1e-3 * 0.5);
  // The cooldown needs a budget to end at, and fits into a step budget.
  EXPECT_THROW(c.validate(), Error);
  c.max_minutes = 1;
  c.validate();
  c.max_steps = 3;
  EXPECT_THROW(c.validate(), Error);
  c.cooldown_steps = -1;
  c.max_steps = 10;
  EXPECT_THROW(c.validate(), Error);
}

// The time budget's cooldown, by hand: it begins when the time left covers cooldown_steps steps,
// and a slower pace moves its end in with the rate continuous, not the budget cutting it.
TEST(TrainerTest, TimeBudgetCooldownShortensWhenThePaceDrops) {
  TrainConfig c;
  c.lr = 1e-3;
  c.schedule = "constant";
  c.warmup_steps = 0;
  c.max_minutes = 60;
  c.cooldown_steps = 100;
  c.validate();
  const Cooldown none;
  EXPECT_EQ(plan_cooldown(c, none, 1000, 201.0, 2.0).end, 0);  // 100.5 steps left: not yet
  const Cooldown begun = plan_cooldown(c, none, 1000, 200.0, 2.0);
  EXPECT_EQ(begun.end, 1100);
  EXPECT_DOUBLE_EQ(learning_rate(c, 1001, begun), 1e-3);  // 100 of 100 steps left
  EXPECT_DOUBLE_EQ(learning_rate(c, 1100, begun), 1e-5);
  // Time for clearly fewer steps (5%, at least 10, short): it begins short, from the full rate.
  EXPECT_EQ(plan_cooldown(c, none, 1000, 91.0, 1.0).end, 1100);
  const Cooldown short_begun = plan_cooldown(c, none, 1000, 89.0, 1.0);
  EXPECT_EQ(short_begun.end, 1089);
  EXPECT_EQ(short_begun.from, 1001);
  EXPECT_DOUBLE_EQ(learning_rate(c, 1001, short_begun), 1e-3);
  EXPECT_DOUBLE_EQ(learning_rate(c, 1089, short_begun), 1e-3 / 89);
  // A small shortfall (5%, at least 10 steps) is left alone.
  EXPECT_EQ(plan_cooldown(c, begun, 1000, 91.0, 1.0).end, 1100);
  // Half the steps: the end moves in, the next step keeps its rate.
  const Cooldown half = plan_cooldown(c, begun, 1000, 50.0, 1.0);
  EXPECT_EQ(half.end, 1050);
  EXPECT_EQ(half.from, 1001);
  EXPECT_DOUBLE_EQ(learning_rate(c, 1001, half), 1e-3);
  EXPECT_DOUBLE_EQ(learning_rate(c, 1050, half), 1e-3 / 50);
  // Again, mid-way: from the rate it had reached (30 of 50 steps left) to the new end.
  const Cooldown again = plan_cooldown(c, half, 1020, 10.0, 1.0);
  EXPECT_EQ(again.end, 1030);
  EXPECT_EQ(again.from, 1021);
  EXPECT_DOUBLE_EQ(learning_rate(c, 1021, again), learning_rate(c, 1021, half));
  EXPECT_DOUBLE_EQ(learning_rate(c, 1021, again), 1e-3 * 0.6);
  EXPECT_DOUBLE_EQ(learning_rate(c, 1030, again), 1e-3 * 0.06);
  // No time left: the next step is the last.
  EXPECT_EQ(plan_cooldown(c, begun, 1000, 0.0, 1.0).end, 1001);
  // Without a time budget nothing is planned.
  c.max_minutes = 0;
  c.max_steps = 5000;
  EXPECT_EQ(plan_cooldown(c, none, 1000, 0.0, 1.0).end, 0);
}

// A checkpoint's state file, and the cooldown planned in it.
ConfigMap read_state(const fs::path& dir) {
  const std::string path = (dir / "state.ini").string();
  return read_config_lines(internal::read_text_file(path), path);
}
Cooldown saved_cooldown(const ConfigMap& state) {
  return {std::stoll(state.at("cooldown_end")), std::stoll(state.at("cooldown_from")),
          std::stod(state.at("cooldown_factor"))};
}

// The last line of a checkpoint's training log.
nlohmann::json last_log_line(const fs::path& dir) {
  std::ifstream log(dir / "train_log.jsonl");
  std::string line, last;
  while (std::getline(log, line)) last = line;
  return nlohmann::json::parse(last);
}

// With only a time budget, the cooldown begins when the time left covers cooldown_steps steps at
// the pace so far; here at once (after the steps that measure the pace), and since 3 s do not
// last a million steps, it begins short, ending where they end. The plan is kept in the
// checkpoint and the run ends near its planned end, the rate nearly annealed.
TEST(TrainerTest, TimeBudgetCooldownPlansAndShortensItsEnd) {
  Dataset ds = testing::cyclic_dataset(30, 20, 6, 3);
  IdMap map = testing::random_id_map(30, {4, 4}, 3, 4);
  TrainConfig t = quick_train_config();
  t.max_minutes = 0.05;    // 3 s: a few hundred steps on an idle machine, > 11 under load
  t.max_epochs = 1000000;  // the time budget ends the run
  t.eval_every = 1000000;  // one validation, at the end
  t.cooldown_steps = 1000000;
  t.warmup_steps = 0;
  t.schedule = "constant";
  const fs::path dir = temp_dir("time_cooldown");
  t.out_dir = dir.string();
  const auto result = train_recommender(ds, &map, tiny_tiger_config(), t);
  EXPECT_EQ(result.stop_reason, "time_budget");
  // Planned after 10 steps, short at once (from step 11) since 3 s cannot last cooldown_steps
  // steps, and shortened again whenever the pace drops.
  const Cooldown planned = saved_cooldown(read_state(dir));
  EXPECT_GE(planned.from, 11);
  EXPECT_LT(planned.end, 10 + t.cooldown_steps);
  EXPECT_GT(planned.factor, 0.0);
  EXPECT_LE(planned.factor, 1.0);
  const auto json = last_log_line(dir);
  const int64_t step = json["step"];
  ASSERT_GT(step, 11);  // past the cooldown's first step, which still has the full rate
  EXPECT_LE(step, planned.end);
  EXPECT_DOUBLE_EQ(json["lr"].get<double>(), learning_rate(t, step, planned));
  EXPECT_LT(json["lr"].get<double>(), 0.5 * t.lr);  // ended near the planned end, not cut early
  fs::remove_all(dir);
}

// A time budget's cooldown belongs to that budget: resumed under a larger one, a run trains on
// and plans a new cooldown, whether the old one had ended or still had steps left (here rewritten
// into the checkpoint so as to end 5 steps after the resume: kept, it would end the run there).
TEST(TrainerTest, LargerTimeBudgetDropsTheOldCooldown) {
  Dataset ds = testing::cyclic_dataset(30, 20, 6, 3);
  IdMap map = testing::random_id_map(30, {4, 4}, 3, 4);
  TrainConfig t = quick_train_config();
  t.max_minutes = 0.03;  // 1.8 s
  t.max_epochs = 1000000;
  t.eval_every = 1000000;
  t.cooldown_steps = 1000000;
  t.warmup_steps = 0;
  t.schedule = "constant";
  const fs::path dir = temp_dir("cooldown_restart");
  t.out_dir = dir.string();
  ASSERT_EQ(train_recommender(ds, &map, tiny_tiger_config(), t).stop_reason, "time_budget");
  {  // the same budget again: nothing left to train
    const ConfigMap before = read_state(dir);
    const auto same = train_recommender(ds, &map, tiny_tiger_config(), t);
    EXPECT_TRUE(same.resumed);
    EXPECT_EQ(same.stop_reason, "time_budget");
    EXPECT_EQ(read_state(dir), before);
  }
  for (const bool under_way : {false, true}) {
    SCOPED_TRACE(under_way ? "cooldown under way" : "cooldown as the budget left it");
    ConfigMap before = read_state(dir);
    const int64_t resumed_at = std::stoll(before.at("step"));
    int64_t old_end = std::stoll(before.at("cooldown_end"));
    ASSERT_GT(old_end, 0);
    if (under_way) {
      old_end = resumed_at + 5;
      before["cooldown_end"] = std::to_string(old_end);
      internal::write_text_file((dir / "state.ini").string(), write_config_lines(before));
    }
    t.max_minutes += 0.03;  // 1.8 s more
    const auto result = train_recommender(ds, &map, tiny_tiger_config(), t);
    EXPECT_TRUE(result.resumed);
    EXPECT_EQ(result.stop_reason, "time_budget");
    const ConfigMap after = read_state(dir);
    const int64_t step = std::stoll(after.at("step"));
    const Cooldown planned = saved_cooldown(after);
    EXPECT_GT(step, std::max(old_end, resumed_at + 10));  // trained on, past the pace's steps
    EXPECT_GT(planned.from, resumed_at + 10);             // a new plan, made after the resume
    EXPECT_LE(step, planned.end);
    const auto json = last_log_line(dir);
    EXPECT_EQ(json["step"].get<int64_t>(), step);
    EXPECT_DOUBLE_EQ(json["lr"].get<double>(), learning_rate(t, step, planned));
  }
  fs::remove_all(dir);
}

// A batch cut into length groups (each padded to its own longest sample) takes the same step as
// the whole batch padded to its longest: the grouping saves padding and changes nothing else.
TEST(TrainerTest, LengthGroupsChangeOnlyThePadding) {
  for (const ModelConfig& c : {tiny_tiger_config(), tiny_sasrec_config(0.0)}) {
    SCOPED_TRACE(c.model);
    const double whole = loss_after_12_steps(c, 1, 1);
    EXPECT_NEAR(whole, loss_after_12_steps(c, 5, 1), 1e-4 * std::abs(whole));
    EXPECT_NE(whole, 0.0);
  }
}

// Dropout masks are drawn per length group, not per thread: with dropout on, 1 and 2 threads
// still take the same steps.
TEST(TrainerTest, ShardedTrainingWithDropoutMatchesOneThread) {
  ModelConfig tiger = tiny_tiger_config();
  tiger.tiger.dropout = 0.2;
  for (const ModelConfig& c : {tiger, tiny_sasrec_config(0.3)}) {
    SCOPED_TRACE(c.model);
    const double one = loss_after_12_steps(c, 4, 1);
    EXPECT_NEAR(one, loss_after_12_steps(c, 4, 2), 1e-4 * std::abs(one));
    EXPECT_NE(one, loss_after_12_steps(c, 4, 1, /*seed=*/6));  // the masks do matter
  }
}

TEST(TrainerTest, Bf16TrainingAndDecodingStayCloseToFp32) {
  Dataset ds = testing::cyclic_dataset(30, 60, 8, 1);
  IdMap map = testing::random_id_map(30, {4, 4}, 3, 2);
  TrainConfig t = quick_train_config();
  t.precision = "bf16";
  t.max_epochs = 60;
  t.eval_every = 30;
  t.patience = 100;
  auto result = train_recommender(ds, &map, tiny_tiger_config(), t);
  EvalConfig e;
  e.beam_size = 10;
  e.ks = {10};
  auto fp32 = evaluate(*result.model, ds, Split::kTest, e);
  e.precision = "bf16";
  auto bf16 = evaluate(*result.model, ds, Split::kTest, e);
  EXPECT_GE(fp32.metrics.at("recall@10"), 0.9);
  EXPECT_NEAR(bf16.metrics.at("recall@10"), fp32.metrics.at("recall@10"), 0.05);
  EXPECT_EQ(fp32.precision, "fp32");
  EXPECT_EQ(bf16.precision, "bf16");
  t.precision = "fp16";
  EXPECT_THROW(train_recommender(ds, &map, tiny_tiger_config(), t), Error);
}

// A bf16 decode outside training (evaluate, recommend, serve) makes the same room in oneDNN's
// kernel cache as training does (internal/kernel_retry.h); a float32 decode leaves the cache alone.
TEST(TrainerTest, Bf16DecodingMakesRoomForOneDnnKernels) {
  const auto api = testing::onednn_capacity_api();
  if (!api.loaded) GTEST_SKIP() << "this LibTorch does not use a shared libdnnl.so.2";
  ASSERT_TRUE(api.get && api.set);
  if (testing::onednn_capacity_set_by_environment())
    GTEST_SKIP() << "the environment sets oneDNN's cache capacity";
  Dataset ds = testing::cyclic_dataset(12, 20, 6, 1);
  IdMap map = testing::random_id_map(12, {4, 4}, 3, 2);
  TrainConfig t = quick_train_config();
  t.max_epochs = 1;
  auto result = train_recommender(ds, &map, tiny_tiger_config(), t);
  int original = 0, now = 0;
  ASSERT_EQ(api.get(&original), 0);
  ASSERT_EQ(api.set(100), 0);
  EvalConfig e;
  e.ks = {10};
  evaluate(*result.model, ds, Split::kTest, e);
  ASSERT_EQ(api.get(&now), 0);
  EXPECT_EQ(now, 100);
  e.precision = "bf16";
  evaluate(*result.model, ds, Split::kTest, e);
  ASSERT_EQ(api.get(&now), 0);
  EXPECT_EQ(now, internal::kBf16KernelCacheCapacity);
  ASSERT_EQ(api.set(original), 0);
}

// evaluate / recommend / serve decode in the checkpoint's training precision unless told
// otherwise, and reports say which precision decoded.
TEST(TrainerTest, CheckpointsAndReportsStateTheirPrecision) {
  Dataset ds = testing::cyclic_dataset(30, 20, 6, 3);
  IdMap map = testing::random_id_map(30, {4, 4}, 3, 4);
  TrainConfig t = quick_train_config();
  t.max_steps = 2;
  t.precision = "bf16";
  const fs::path dir = temp_dir("precision");
  t.out_dir = dir.string();
  auto result = train_recommender(ds, &map, tiny_tiger_config(), t);
  EXPECT_EQ(trained_precision(read_checkpoint_config(dir.string())), "bf16");
  EXPECT_EQ(trained_precision(ConfigMap{}), "fp32");
  EXPECT_EQ(trained_precision(ConfigMap{{"train.precision", "fp32"}}), "fp32");
  EvalConfig e;
  e.beam_size = 4;
  e.precision = "bf16";
  EvalReport report;
  report.results.push_back(evaluate(*result.model, ds, Split::kTest, e));
  EXPECT_NE(report.to_markdown().find("| test | 20 | no | bf16 |"), std::string::npos)
      << report.to_markdown();
  const auto json = nlohmann::json::parse(report.to_json());
  EXPECT_EQ(json["results"][0]["precision"], "bf16");
  EXPECT_EQ(json["results"][0]["users"], 20);
  EXPECT_EQ(json["results"][0]["metrics"].size(), 6u);  // recall and NDCG at 5, 10, 20
  EXPECT_FALSE(json["results"][0].contains("checkpoint"));
  // Several checkpoints in one report: each row names its own.
  report.results[0].checkpoint = "runs/s1";
  EXPECT_NE(report.to_markdown().find("| runs/s1 | test | 20 | no | bf16 |"), std::string::npos)
      << report.to_markdown();
  EXPECT_EQ(nlohmann::json::parse(report.to_json())["results"][0]["checkpoint"], "runs/s1");
  report.dataset = "store \xff";  // not UTF-8 (paths are bytes): replaced, not thrown
  EXPECT_EQ(nlohmann::json::parse(report.to_json())["dataset"], "store \xef\xbf\xbd");
  fs::remove_all(dir);
}

TEST(TrainerTest, ResumeNamesChangedSettingsButNotBudgets) {
  Dataset ds = testing::cyclic_dataset(30, 20, 6, 3);
  IdMap map = testing::random_id_map(30, {4, 4}, 3, 4);
  TrainConfig t = quick_train_config();
  t.max_steps = 1;
  const fs::path dir = temp_dir("changed");
  t.out_dir = dir.string();
  train_recommender(ds, &map, tiny_tiger_config(), t);
  t.max_steps = 2;  // a budget: resumes silently
  t.lr = 1e-3;      // a setting: named
  // A checkpoint older than a setting had the default then: no cooldown (named, as a training
  // setting), token inputs and no item tokens (the shape, which matches).
  {
    std::ifstream in(dir / "config.ini");
    std::string line, kept;
    while (std::getline(in, line)) {
      if (line.rfind("train.cooldown_steps", 0) != 0 && line.rfind("tiger.encoder_input", 0) != 0 &&
          line.rfind("tiger.item_ids", 0) != 0) {
        kept += line + "\n";
      }
    }
    in.close();
    std::ofstream(dir / "config.ini") << kept;
  }
  t.cooldown_steps = 1;
  ModelConfig less_dropout = tiny_tiger_config();
  less_dropout.tiger.dropout = 0.25;  // a setting too: the weights do not depend on it
  ::testing::internal::CaptureStderr();
  auto result = train_recommender(ds, &map, less_dropout, t);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(result.resumed);
  EXPECT_EQ(result.steps, 2);
  EXPECT_NE(err.find("changed training settings"), std::string::npos) << err;
  EXPECT_NE(err.find("train.lr 0.003 -> 0.001"), std::string::npos) << err;
  EXPECT_NE(err.find("tiger.dropout 0 -> 0.25"), std::string::npos) << err;
  EXPECT_NE(err.find("train.cooldown_steps 0 -> 1"), std::string::npos) << err;
  EXPECT_EQ(err.find("train.max_steps"), std::string::npos) << err;
  {  // and the training log records them
    std::ifstream log(dir / "train_log.jsonl");
    std::string line;
    ASSERT_TRUE(std::getline(log, line));
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["resumed_at_step"], 1);
    EXPECT_EQ(j["changed"]["train.lr"], nlohmann::json({"0.003", "0.001"}));
    EXPECT_EQ(j["changed"]["tiger.dropout"], nlohmann::json({"0", "0.25"}));
    EXPECT_FALSE(j["changed"].contains("train.max_steps"));
  }
  // The checkpoint now says what the run continues with, so it loads as such.
  EXPECT_EQ(read_checkpoint_config(dir.string()).at("tiger.dropout"), "0.25");
  EXPECT_NO_THROW(load_recommender(dir.string(), &map));
  // A change of shape is refused: the weights would not fit.
  ModelConfig wider = less_dropout;
  wider.tiger.d_ff = 128;
  t.max_steps = 3;
  EXPECT_THROW(train_recommender(ds, &map, wider, t), Error);
  ModelConfig items = less_dropout;
  items.tiger.encoder_input = "items";
  EXPECT_THROW(train_recommender(ds, &map, items, t), Error);
  ModelConfig item_ids = less_dropout;
  item_ids.tiger.item_ids = true;
  EXPECT_THROW(train_recommender(ds, &map, item_ids, t), Error);
  fs::remove_all(dir);
}

// Early stopping holds on resume under the same patience; a larger patience continues the run
// (e.g. to add a cooldown after a plateau) from where it stopped.
TEST(TrainerTest, EarlyStoppedRunContinuesWithALargerPatience) {
  Dataset ds = testing::cyclic_dataset(30, 20, 6, 3);
  IdMap map = testing::random_id_map(30, {4, 4}, 3, 4);
  TrainConfig t = quick_train_config();
  t.lr = 1e-12;  // the weights hardly move: validation does not gain after the first epoch
  t.warmup_steps = 0;
  t.schedule = "constant";
  t.patience = 1;
  t.max_epochs = 10;
  const fs::path dir = temp_dir("early_stop");
  t.out_dir = dir.string();
  const auto first = train_recommender(ds, &map, tiny_tiger_config(), t);
  ASSERT_EQ(first.stop_reason, "early_stopping");
  ASSERT_EQ(first.best_epoch, 1);
  const int64_t steps_per_epoch = first.steps / 2;
  ASSERT_GT(steps_per_epoch, 0);

  const auto same = train_recommender(ds, &map, tiny_tiger_config(), t);
  EXPECT_TRUE(same.resumed);
  EXPECT_EQ(same.stop_reason, "early_stopping");
  EXPECT_EQ(same.steps, first.steps);

  t.patience = 3;
  t.max_epochs = 3;
  ::testing::internal::CaptureStderr();
  const auto more = train_recommender(ds, &map, tiny_tiger_config(), t);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("stopped early after 1 validations without a gain: patience now 3"),
            std::string::npos)
      << err;
  EXPECT_EQ(more.stop_reason, "max_epochs");
  EXPECT_EQ(more.steps, 3 * steps_per_epoch);
  fs::remove_all(dir);
}

TEST(TrainerTest, LoadsTheWeightsAskedFor) {
  Dataset ds = testing::cyclic_dataset(30, 20, 6, 3);
  IdMap map = testing::random_id_map(30, {4, 4}, 3, 4);
  TrainConfig t = quick_train_config();
  t.max_epochs = 1;  // one validation: best.pt and last.pt
  const fs::path dir = temp_dir("weights");
  t.out_dir = dir.string();
  train_recommender(ds, &map, tiny_tiger_config(), t);
  ASSERT_TRUE(fs::exists(dir / "best.pt") && fs::exists(dir / "last.pt"));
  {  // one validation line in the training log
    std::ifstream log(dir / "train_log.jsonl");
    std::string line;
    ASSERT_TRUE(std::getline(log, line));
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["epoch"], 1);
    EXPECT_GT(j["step"].get<int>(), 0);
    EXPECT_GT(j["lr"].get<double>(), 0);
    EXPECT_GT(j["samples_per_s"].get<double>(), 0);
    EXPECT_TRUE(j.contains("valid_ndcg@10"));
    EXPECT_FALSE(std::getline(log, line));
  }
  { std::ofstream(dir / "last.pt", std::ios::trunc) << "not weights"; }
  EXPECT_NO_THROW(load_recommender(dir.string(), &map, "cpu", CheckpointWeights::kBest));
  EXPECT_THROW(load_recommender(dir.string(), &map, "cpu", CheckpointWeights::kLast), Error);
  fs::remove(dir / "last.pt");
  try {
    load_recommender(dir.string(), &map, "cpu", CheckpointWeights::kLast);
    ADD_FAILURE() << "loaded weights that are not there";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("last.pt"), std::string::npos) << e.what();
  }
  EXPECT_EQ(parse_checkpoint_weights("last"), CheckpointWeights::kLast);
  EXPECT_THROW(parse_checkpoint_weights("worst"), Error);
  fs::remove_all(dir);
}

TEST(TrainerTest, RejectsWrongMapAndUnknownModel) {
  Dataset ds = testing::cyclic_dataset(30, 20, 6, 3);
  IdMap map = testing::random_id_map(30, {4, 4}, 3, 4);
  IdMap other = testing::random_id_map(30, {4, 4}, 3, 99);
  TrainConfig t = quick_train_config();
  t.max_steps = 2;
  const fs::path dir = temp_dir("wrongmap");
  t.out_dir = dir.string();
  train_recommender(ds, &map, tiny_tiger_config(), t);
  EXPECT_THROW(load_recommender(dir.string(), &other), Error);
  ModelConfig bad = tiny_tiger_config();
  bad.model = "gru4rec";
  EXPECT_THROW(train_recommender(ds, &map, bad, t), Error);
  bad = tiny_tiger_config();
  bad.tiger.encoder_input = "chars";
  EXPECT_THROW(train_recommender(ds, &map, bad, t), Error);
  EXPECT_THROW(train_recommender(ds, nullptr, tiny_tiger_config(), TrainConfig{}), Error);
  EXPECT_THROW(load_recommender((dir / "missing").string(), &map), Error);
  fs::remove_all(dir);
}

TEST(TrainerTest, CudaTrainingRuns) {
  if (!std::getenv("RECSYS_TEST_CUDA")) GTEST_SKIP() << "set RECSYS_TEST_CUDA=1 on a CUDA build";
  Dataset ds = testing::cyclic_dataset(30, 20, 6, 3);
  IdMap map = testing::random_id_map(30, {4, 4}, 3, 4);
  TrainConfig t = quick_train_config();
  t.device = "cuda";
  t.max_steps = 5;
  auto r = train_recommender(ds, &map, tiny_tiger_config(), t);
  EXPECT_EQ(r.steps, 5);
}

}  // namespace
}  // namespace recsys::seqrec
