// One list of the LMIndexerOptions fields that define the trained state, shared by to_json() and
// the checkpoint reader/writer so the two never disagree.
#pragma once

#include <string_view>

#include "indexer/lm_indexer.h"

namespace recsys::indexer::internal {

template <typename Options, typename F>
void visit_trained_fields(Options& o, F&& f) {
  f("id_length", o.id_length);
  f("codebook_size", o.codebook_size);
  f("tokenizer_model", o.tokenizer_model);
  f("tokenizer_vocab", o.tokenizer_vocab);
  f("tokenizer_type", o.tokenizer_type);
  f("max_text_length", o.max_text_length);
  f("d_model", o.d_model);
  f("heads", o.heads);
  f("encoder_layers", o.encoder_layers);
  f("decoder_layers", o.decoder_layers);
  f("reconstructor_layers", o.reconstructor_layers);
  f("feedforward", o.feedforward);
  f("dropout", o.dropout);
  f("warmup_epochs", o.warmup_epochs);
  f("warmup_encoder", o.warmup_encoder);
  f("epochs", o.epochs);
  f("batch_size", o.batch_size);
  f("learning_rate", o.learning_rate);
  f("mask_rate", o.mask_rate);
  f("mask_rate_step", o.mask_rate_step);
  f("max_mask_rate", o.max_mask_rate);
  f("contrastive_weight", o.contrastive_weight);
  f("commitment_weight", o.commitment_weight);
  f("temperature", o.temperature);
  f("grad_clip", o.grad_clip);
  f("kmeans_iterations", o.kmeans_iterations);
  f("seed", o.seed);
  // Added in checkpoint version 2 (is_v2_field).
  f("freeze_encoder_after", o.freeze_encoder_after);
  f("final_reassign", o.final_reassign);
  f("glove_path", o.glove_path);
  f("encoder_script", o.encoder_script);
  f("freeze_encoder_script", o.freeze_encoder_script);
}

// Fields a version-1 checkpoint lacks; such a run had final_reassign off and none of the others.
inline bool is_v2_field(const char* name) {
  for (const char* n : {"freeze_encoder_after", "final_reassign", "glove_path", "encoder_script",
                        "freeze_encoder_script"})
    if (std::string_view(n) == name) return true;
  return false;
}

}  // namespace recsys::indexer::internal
