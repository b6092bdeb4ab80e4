// The multi-token-prediction module (checkpoint layer num_hidden_layers, docs/model-math.md §11): for row
// (token t_{p+1}, main post-norm hidden h_p, position p)
//   z = eh_proj [enorm(embed(t_{p+1})); hnorm(h_p)]  ->  decoder block  ->
//   draft logits = shared_head.head(shared_head.norm(z)).
// It has its own one-layer KV cache. Embedding and head fall back to the main model's when
// the checkpoint does not repeat them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "format/model_config.h"
#include "kernels/weight_ref.h"
#include "platform/status.h"
#include "runtime/decoder_layer.h"
#include "runtime/kv_cache.h"
#include "runtime/weight_source.h"

namespace moestream {

class MtpModule {
 public:
  static Result<MtpModule> load(const WeightSource& source, const ModelConfig& config,
                                int64_t layer, const kernels::WeightRef& main_embedding,
                                const kernels::WeightRef& main_head);

  int64_t layer() const { return layer_; }
  KvCache new_kv_cache(KvCachePrecision precision = KvCachePrecision::kF32) const;

  // next_tokens[i] pairs with row i of main_hidden ([T, hidden]); positions continue from
  // cache.size(). draft_hidden (optional) gets the post-shared_head.norm hidden, the
  // input for recycling into a further draft step. With `last_row_logits`, draft_logits gets
  // the last row's logits only (a speculating decoder drafts from the last row; the others
  // only fill the cache).
  Status forward(std::span<const int32_t> next_tokens, const float* main_hidden, KvCache& cache,
                 const StepContext& context, std::vector<float>* draft_logits,
                 std::vector<float>* draft_hidden, bool last_row_logits = false) const;

 private:
  int64_t layer_ = -1;
  int64_t hidden_ = 0;
  int64_t vocab_ = 0;
  int64_t kv_lora_rank_ = 0;
  int64_t rope_dim_ = 0;
  double eps_ = 1e-6;
  kernels::WeightRef embedding_;
  std::vector<float> enorm_;
  std::vector<float> hnorm_;
  kernels::WeightRef eh_proj_;  // [hidden, 2 * hidden]
  std::optional<DecoderLayer> block_;
  std::vector<float> head_norm_;
  kernels::WeightRef head_;
};

}  // namespace moestream
