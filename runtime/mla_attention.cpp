#include "runtime/mla_attention.h"

#include <algorithm>
#include <cmath>

#include "kernels/kernel_threads.h"
#include "kernels/latent_attention.h"
#include "kernels/matmul.h"
#include "runtime/linear.h"
#include "runtime/rms_norm.h"

namespace moestream {
namespace {

float dot(const float* a, const float* b, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// In-place softmax over n scores, float32 with the max subtracted.
void softmax(float* scores, int64_t n) {
  const float max = *std::max_element(scores, scores + n);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    scores[i] = std::exp(scores[i] - max);
    sum += scores[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) scores[i] *= inv;
}

}  // namespace

MlaDims MlaDims::from_config(const ModelConfig& config) {
  MlaDims d;
  d.hidden = config.hidden_size;
  d.heads = config.num_attention_heads;
  d.q_lora_rank = config.q_lora_rank;
  d.kv_lora_rank = config.kv_lora_rank;
  d.nope_dim = config.qk_nope_head_dim;
  d.rope_dim = config.qk_rope_head_dim;
  d.v_dim = config.v_head_dim;
  d.eps = config.rms_norm_eps;
  return d;
}

Result<MlaAttention> MlaAttention::load(const WeightSource& source, const ModelConfig& config,
                                        int64_t layer) {
  MlaAttention attn;
  const MlaDims& d = attn.dims_ = MlaDims::from_config(config);
  const std::string p = layer_prefix(layer) + "self_attn.";
  if (d.q_lora_rank > 0) {
    MOESTREAM_ASSIGN_OR_RETURN(attn.q_a_proj_, load_weight(source, p + "q_a_proj.weight", d.q_lora_rank, d.hidden));
    MOESTREAM_ASSIGN_OR_RETURN(attn.q_a_layernorm_, load_vector(source, p + "q_a_layernorm.weight", d.q_lora_rank));
    MOESTREAM_ASSIGN_OR_RETURN(attn.q_b_proj_, load_weight(source, p + "q_b_proj.weight", d.heads * d.qk_dim(), d.q_lora_rank));
  } else {
    MOESTREAM_ASSIGN_OR_RETURN(attn.q_b_proj_, load_weight(source, p + "q_proj.weight", d.heads * d.qk_dim(), d.hidden));
  }
  MOESTREAM_ASSIGN_OR_RETURN(attn.kv_a_proj_, load_weight(source, p + "kv_a_proj_with_mqa.weight", d.kv_lora_rank + d.rope_dim, d.hidden));
  MOESTREAM_ASSIGN_OR_RETURN(attn.kv_a_layernorm_, load_vector(source, p + "kv_a_layernorm.weight", d.kv_lora_rank));
  MOESTREAM_ASSIGN_OR_RETURN(attn.kv_b_proj_, load_weight(source, p + "kv_b_proj.weight", d.heads * d.kv_b_rows_per_head(), d.kv_lora_rank));
  MOESTREAM_ASSIGN_OR_RETURN(attn.o_proj_, load_weight(source, p + "o_proj.weight", d.hidden, d.heads * d.v_dim));
  return attn;
}

void MlaAttention::forward(const float* x, int64_t tokens, int64_t start,
                           const RotaryEmbedding& rope, KvCache& cache, int64_t cache_layer,
                           AttentionForm form, float* out, ScratchArena& arena) const {
  const Segment one{0, tokens, start, &cache};
  forward(x, tokens, std::span<const Segment>(&one, 1), rope, cache_layer, form, out, arena);
}

void MlaAttention::forward(const float* x, int64_t rows, std::span<const Segment> segments,
                           const RotaryEmbedding& rope, int64_t cache_layer, AttentionForm form,
                           float* out, ScratchArena& arena) const {
  ScratchArena::Scope scope(arena);
  const MlaDims& d = dims_;
  const int64_t q_width = d.heads * d.qk_dim();
  float* q = arena.take<float>(static_cast<size_t>(rows * q_width));
  if (q_a_proj_) {
    float* c_q = arena.take<float>(static_cast<size_t>(rows * d.q_lora_rank));
    kernels::matmul(*q_a_proj_, x, rows, c_q);
    rms_norm_rows(c_q, rows, q_a_layernorm_.data(), d.q_lora_rank, d.eps, c_q);
    kernels::matmul(q_b_proj_, c_q, rows, q);
  } else {
    kernels::matmul(q_b_proj_, x, rows, q);
  }
  // Compressed KV of the new tokens: latent normalized (not k_pe), k_pe roped, then cached.
  const int64_t kv_width = d.kv_lora_rank + d.rope_dim;
  float* kv = arena.take<float>(static_cast<size_t>(rows * kv_width));
  kernels::matmul(kv_a_proj_, x, rows, kv);
  float* latent = arena.take<float>(static_cast<size_t>(d.kv_lora_rank));
  float* heads_out = arena.take<float>(static_cast<size_t>(rows * d.heads * d.v_dim));
  for (const Segment& seg : segments) {
    float* seg_q = q + seg.begin * q_width;
    for (int64_t t = 0; t < seg.count; ++t) {
      for (int64_t h = 0; h < d.heads; ++h) {
        rope.apply(seg_q + t * q_width + h * d.qk_dim() + d.nope_dim, seg.start + t);
      }
      float* row = kv + (seg.begin + t) * kv_width;
      rms_norm(row, kv_a_layernorm_.data(), d.kv_lora_rank, d.eps, latent);
      rope.apply(row + d.kv_lora_rank, seg.start + t);
      seg.cache->write(cache_layer, seg.start + t, latent, row + d.kv_lora_rank);
    }
    float* seg_out = heads_out + seg.begin * d.heads * d.v_dim;
    if (form == AttentionForm::kAbsorbed) {
      attend_absorbed(seg_q, *seg.cache, cache_layer, seg.count, seg.start, rope.softmax_scale(), seg_out, arena);
      continue;
    }
    // The expanded reference reads a float32 cache in place and widens a bf16 one first.
    ScratchArena::Scope seg_scope(arena);
    const int64_t end = seg.start + seg.count;
    const float* cached = seg.cache->f32_rows(cache_layer);
    if (cached == nullptr) {
      float* widened = arena.take<float>(static_cast<size_t>(end * seg.cache->row_width()));
      seg.cache->read(cache_layer, 0, end, widened);
      cached = widened;
    }
    attend_expanded(seg_q, cached, seg.count, seg.start, rope.softmax_scale(), seg_out, arena);
  }
  kernels::matmul(o_proj_, heads_out, rows, out);
}

void MlaAttention::attend_absorbed(const float* q, const KvCache& cache, int64_t cache_layer,
                                   int64_t tokens, int64_t start, float scale, float* heads_out,
                                   ScratchArena& arena) const {
  ScratchArena::Scope scope(arena);
  const MlaDims& d = dims_;
  const int64_t width = d.kv_lora_rank + d.rope_dim;
  const int64_t per_head = d.kv_b_rows_per_head();
  const kernels::MatmulKernels& mm = kernels::active_matmul_kernels();
  // Absorbed queries [q_latent | q_pe], q_latent = W_UK[h]^T q_nope (rows
  // [h*per_head, h*per_head + nope) of kv_b_proj), per head over the threads.
  float* absorbed = arena.take<float>(static_cast<size_t>(tokens * d.heads * width));
  const int64_t head_work = tokens * d.nope_dim * d.kv_lora_rank;
  kernels::parallel_rows(d.heads, 1, head_work * d.heads, [&](int64_t hb, int64_t he) {
    for (int64_t h = hb; h < he; ++h) {
      for (int64_t t = 0; t < tokens; ++t) {
        const float* q_nope = q + (t * d.heads + h) * d.qk_dim();
        float* dst = absorbed + (t * d.heads + h) * width;
        mm.matvec_transposed_rows(kv_b_proj_, h * per_head, h * per_head + d.nope_dim, q_nope, dst);
        std::copy_n(q_nope + d.nope_dim, d.rope_dim, dst + d.kv_lora_rank);
      }
    }
  });
  // Weighted latents, head-major: [heads][tokens][kv_lora_rank].
  float* latents = arena.take<float>(static_cast<size_t>(d.heads * tokens * d.kv_lora_rank));
  kernels::LatentQueries queries;
  queries.q = absorbed;
  queries.tokens = tokens;
  queries.heads = d.heads;
  queries.first_position = start;
  queries.scale = scale;
  kernels::latent_attention(queries, cache.latent_rows(cache_layer), latents, arena);
  // o = W_UV[h] latent (rows [h*per_head + nope, (h+1)*per_head)), each head over its tokens.
  kernels::parallel_rows(d.heads, 1, head_work * d.heads, [&](int64_t hb, int64_t he) {
    for (int64_t h = hb; h < he; ++h) {
      mm.matmul_rows(kv_b_proj_, h * per_head + d.nope_dim, (h + 1) * per_head,
                     latents + h * tokens * d.kv_lora_rank, tokens, heads_out + h * d.v_dim,
                     d.heads * d.v_dim);
    }
  });
}

void MlaAttention::attend_expanded(const float* q, const float* cached, int64_t tokens,
                                   int64_t start, float scale, float* heads_out,
                                   ScratchArena& arena) const {
  ScratchArena::Scope scope(arena);
  const MlaDims& d = dims_;
  const int64_t width = d.kv_lora_rank + d.rope_dim;
  const int64_t per_head = d.kv_b_rows_per_head();
  const int64_t end = start + tokens;
  float* latents = arena.take<float>(static_cast<size_t>(end * d.kv_lora_rank));
  for (int64_t s = 0; s < end; ++s) {
    std::copy_n(cached + s * width, d.kv_lora_rank, latents + s * d.kv_lora_rank);
  }
  // kvb[s] = kv_b_proj c_kv[s], per head [k_nope | v].
  float* kvb = arena.take<float>(static_cast<size_t>(end * d.heads * per_head));
  kernels::matmul(kv_b_proj_, latents, end, kvb);
  float* scores = arena.take<float>(static_cast<size_t>(end));
  for (int64_t t = 0; t < tokens; ++t) {
    const int64_t visible = start + t + 1;
    for (int64_t h = 0; h < d.heads; ++h) {
      const float* q_nope = q + (t * d.heads + h) * d.qk_dim();
      const float* q_pe = q_nope + d.nope_dim;
      for (int64_t s = 0; s < visible; ++s) {
        const float* k_nope = kvb + (s * d.heads + h) * per_head;
        scores[s] = scale * (dot(q_nope, k_nope, d.nope_dim) +
                             dot(q_pe, cached + s * width + d.kv_lora_rank, d.rope_dim));
      }
      softmax(scores, visible);
      float* o = heads_out + (t * d.heads + h) * d.v_dim;
      std::fill(o, o + d.v_dim, 0.0f);
      for (int64_t s = 0; s < visible; ++s) {
        const float* v = kvb + (s * d.heads + h) * per_head + d.nope_dim;
        for (int64_t i = 0; i < d.v_dim; ++i) o[i] += scores[s] * v[i];
      }
    }
  }
}

}  // namespace moestream
