// One pre-norm decoder block: h += MLA(RMSNorm(h)); h += FFN(RMSNorm(h)), the FFN being dense
// (layers < first_k_dense_replace) or MoE. The MTP module reuses it for its own block.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "format/model_config.h"
#include "platform/clock.h"
#include "platform/scratch_arena.h"
#include "platform/status.h"
#include "runtime/dense_ffn.h"
#include "runtime/expert_provider.h"
#include "runtime/kv_cache.h"
#include "runtime/mla_attention.h"
#include "runtime/moe_layer.h"
#include "runtime/op_times.h"
#include "runtime/rope.h"
#include "runtime/weight_source.h"

namespace moestream {

// Rows [begin, begin + count) of a batched step belong to one sequence: positions
// [start, start + count) of its own KV cache.
struct SequenceRows {
  int64_t begin = 0;
  int64_t count = 0;
  int64_t start = 0;
  KvCache* cache = nullptr;
};

// What a forward step needs besides the weights.
struct StepContext {
  ScratchArena* arena = nullptr;  // working memory of the step (required)
  const RotaryEmbedding* rope = nullptr;
  ExpertProvider* experts = nullptr;
  AttentionForm attention_form = AttentionForm::kAbsorbed;
  const RoutingObserver* routing_observer = nullptr;  // may be null
  // Called after a layer's attention, before its FFN, with the residual stream [T, hidden]
  // (pre-gating of the next layer's experts), and in a MoE layer with shared experts again
  // once they are done, with the residual plus their output; may be null.
  const std::function<void(int64_t layer, const float* hidden, int64_t tokens)>* after_attention = nullptr;
  OpTimes* op_times = nullptr;  // where the layer adds its attention / FFN time; may be null

  // Now, and the expert reads' device counters now (for op_times).
  OpMark mark() const { return {now_ns(), experts ? experts->disk_activity() : DiskActivity{}}; }
};

class DecoderLayer {
 public:
  static Result<DecoderLayer> load(const WeightSource& source, const ModelConfig& config,
                                   int64_t layer);

  // hidden: [rows, hidden_size] residual stream of every sequence of the step, updated in
  // place. Attention runs per sequence over its own cache (layer `cache_layer`); the FFN
  // (and so each routed expert) runs once over all rows. positions[r]: row r's position.
  Status forward(float* hidden, std::span<const SequenceRows> sequences, const int64_t* positions,
                 int64_t cache_layer, const StepContext& context) const;
  // One sequence: positions [start, start + tokens) of `cache`.
  Status forward(float* hidden, int64_t tokens, int64_t start, KvCache& cache,
                 int64_t cache_layer, const StepContext& context) const;

  // For pre-gating this layer's experts from the previous layer.
  const MoeLayer* moe() const { return moe_ ? &*moe_ : nullptr; }
  // RMSNorm with this layer's post-attention weights (what its FFN sees), rows of x -> out.
  void post_attention_norm(const float* x, int64_t tokens, float* out) const;

 private:
  int64_t layer_ = -1;
  int64_t hidden_ = 0;
  double eps_ = 1e-6;
  std::vector<float> input_norm_;
  std::vector<float> post_attention_norm_;
  std::optional<MlaAttention> attention_;
  std::optional<SwigluWeights> dense_;
  std::optional<MoeLayer> moe_;
};

}  // namespace moestream
