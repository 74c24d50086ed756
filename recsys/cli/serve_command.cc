// recsys serve: the HTTP/JSON server over a store (item-ID lookups) and, with --model, a trained
// sequential recommender (POST /v1/recommend).
#include <iostream>
#include <memory>
#include <mutex>

#include "recsys/cli/checkpoint.h"
#include "recsys/cli/command.h"
#include "recsys/error.h"
#include "recsys/logging.h"
#include "sequential_rec/recommender.h"
#include "server/http_server.h"
#include "server/store_provider.h"

namespace recsys::cli {

namespace {

// Adapts a seqrec::Recommender (not thread-safe: one forward pass at a time) to the server.
class SeqrecBackend : public server::RecommendBackend {
 public:
  // `precision` empty: the precision the checkpoint was trained in.
  SeqrecBackend(const std::string& checkpoint, const storage::Store& store,
                const std::string& device, const std::string& precision,
                seqrec::CheckpointWeights weights) {
    const seqrec::ConfigMap saved = seqrec::read_checkpoint_config(checkpoint);
    precision_ = precision.empty() ? seqrec::trained_precision(saved) : precision;
    seqrec::check_precision(precision_);
    loaded_ = load_checkpoint(store, checkpoint, saved, device, weights);
  }
  std::string name() const override { return loaded_.model->name(); }
  std::vector<server::Recommendation> recommend(const server::RecommendRequest& r) override {
    seqrec::Query q;
    q.user = r.user.value_or(0);
    q.history = r.history;
    seqrec::RecommendOptions o;
    o.top_k = r.k;
    o.beam_size = r.beam;
    o.exclude_history = r.exclude_history;
    o.precision = precision_;
    std::vector<std::vector<seqrec::ScoredItem>> out;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      out = loaded_.model->recommend({q}, o);
    }
    std::vector<server::Recommendation> recs;
    if (!out.empty())
      for (const auto& s : out[0]) recs.push_back({s.item, s.score});
    if (recs.size() > r.k) recs.resize(r.k);
    return recs;
  }

 private:
  CheckpointModel loaded_;
  std::string precision_;
  std::mutex mutex_;
};

int run_serve(const std::vector<std::string>& args) {
  server::ServerOptions options;
  options.handle_signals = true;
  std::string store_path, model_path, device = "cpu", precision, weights = "best";
  po::options_description desc("recsys serve");
  desc.add_options()("store", po::value(&store_path)->required(), "store directory (read-only)")(
      "model", po::value(&model_path), "recommender checkpoint directory (enables /v1/recommend)")(
      "weights", po::value(&weights)->default_value(weights),
      "best (on validation) | last (the last checkpointed step) of --model")(
      "device", po::value(&device)->default_value(device), "cpu | cuda | cuda:N")(
      "precision", po::value(&precision),
      "fp32 | bf16 for the model; default: the precision it was trained in");
  options.add_options(desc);
  po::variables_map vm;
  if (!parse_options("usage: recsys serve --store DIR [--model CKPT] [--port P] [--threads N] "
                     "[--host ADDR]\n"
                     "HTTP/JSON server: GET /v1/items/{id}, GET /v1/maps/{map}/ids/{t1-t2-..}, "
                     "GET /v1/maps/{map}/prefix/{t1-..}?limit=&cursor=, POST /v1/items:batchGet, "
                     "POST /v1/recommend, GET /healthz, GET /metrics. SIGINT/SIGTERM stop it "
                     "cleanly.",
                     args, desc, vm))
    return 0;
  options.validate();
  server::StoreProvider store(store_path);
  std::shared_ptr<server::RecommendBackend> model;
  if (!model_path.empty()) {
    const storage::Store& loaded_for = *store.current()->store;
    model = std::make_shared<SeqrecBackend>(model_path, loaded_for, device, precision,
                                            seqrec::parse_checkpoint_weights(weights));
    // The model answers in the item indices of this store's data: a store re-ingested under the
    // server with other data (data prepare --overwrite) is refused until a restart.
    store.check_store = [want = loaded_for.stats(), config = loaded_for.ingest_config_json(),
                         model_path](const storage::Store& next) {
      const DatasetStats got = next.stats();
      RECSYS_CHECK(
          got.num_items == want.num_items && got.num_users == want.num_users &&
              got.num_interactions == want.num_interactions && next.ingest_config_json() == config,
          "it now holds other data than the model in '", model_path,
          "' was loaded for (another ingest, or other counts: now ", got.num_items, " items, ",
          got.num_users, " users, ", got.num_interactions, " interactions; then ", want.num_items,
          ", ", want.num_users, ", ", want.num_interactions, "); restart the server to serve it");
    };
  } else {
    RECSYS_LOG(Info) << "no --model: POST /v1/recommend answers 503";
  }
  server::HttpServer http(options, store, model);
  http.start();
  std::cout << "listening on http://" << options.host << ":" << http.port() << std::endl;
  http.wait();
  return 0;
}

}  // namespace

void register_serve_command(CommandRegistry& registry) {
  registry.add({"serve", "HTTP/JSON server for item-ID lookups and recommendations", run_serve});
}

}  // namespace recsys::cli
