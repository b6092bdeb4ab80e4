// Multi-head latent attention (docs/model-math.md §6). Each call processes a chunk of T tokens at
// positions [start, start + T): it appends their compressed KV rows (normalized c_kv, roped
// k_pe) to the cache and attends causally over rows [0, start + T). Decode is a chunk of 1.
//  - kAbsorbed: W_UK is folded into the query and W_UV applied after the weighted sum of
//    latents, so attention reads only the compressed cache (MQA with a latent+rope key).
//  - kExpanded: k_nope / v of every cached token are re-expanded with kv_b_proj (naive MHA).
// Both give the same numbers up to rounding; the golden tests check both.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "format/model_config.h"
#include "kernels/weight_ref.h"
#include "platform/scratch_arena.h"
#include "platform/status.h"
#include "runtime/kv_cache.h"
#include "runtime/rope.h"
#include "runtime/weight_source.h"

namespace moestream {

enum class AttentionForm { kAbsorbed, kExpanded };

struct MlaDims {
  int64_t hidden = 0;
  int64_t heads = 0;
  int64_t q_lora_rank = 0;  // 0: q_proj straight from the hidden state
  int64_t kv_lora_rank = 0;
  int64_t nope_dim = 0;
  int64_t rope_dim = 0;
  int64_t v_dim = 0;
  double eps = 1e-6;

  static MlaDims from_config(const ModelConfig& config);
  int64_t qk_dim() const { return nope_dim + rope_dim; }
  int64_t kv_b_rows_per_head() const { return nope_dim + v_dim; }
};

class MlaAttention {
 public:
  static Result<MlaAttention> load(const WeightSource& source, const ModelConfig& config,
                                   int64_t layer);

  const MlaDims& dims() const { return dims_; }

  // Rows [begin, begin + count) of a step are one sequence's positions [start, start + count)
  // in `cache`.
  struct Segment {
    int64_t begin = 0, count = 0, start = 0;
    KvCache* cache = nullptr;
  };
  // x: [rows, hidden] (already normed) of every sequence of the step; out: [rows, hidden].
  // The projections run once over all rows (each weight read once per step); the cache
  // writes and the attention itself run per sequence. The caller has reserved room for
  // start + count rows in each cache. Working memory comes from `arena` (given back).
  void forward(const float* x, int64_t rows, std::span<const Segment> segments, const RotaryEmbedding& rope,
               int64_t cache_layer, AttentionForm form, float* out, ScratchArena& arena) const;
  // One sequence.
  void forward(const float* x, int64_t tokens, int64_t start, const RotaryEmbedding& rope,
               KvCache& cache, int64_t cache_layer, AttentionForm form, float* out,
               ScratchArena& arena) const;

 private:
  void attend_absorbed(const float* q, const KvCache& cache, int64_t cache_layer, int64_t tokens,
                       int64_t start, float scale, float* heads_out, ScratchArena& arena) const;
  void attend_expanded(const float* q, const float* cached, int64_t tokens, int64_t start,
                       float scale, float* heads_out, ScratchArena& arena) const;

  MlaDims dims_;
  std::optional<kernels::WeightRef> q_a_proj_;  // absent when q_lora_rank == 0
  std::vector<float> q_a_layernorm_;
  kernels::WeightRef q_b_proj_;                 // q_b_proj, or q_proj when q_lora_rank == 0
  kernels::WeightRef kv_a_proj_;
  std::vector<float> kv_a_layernorm_;
  kernels::WeightRef kv_b_proj_;
  kernels::WeightRef o_proj_;
};

}  // namespace moestream
