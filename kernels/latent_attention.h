// Attention over MLA's compressed KV cache in the absorbed form (docs/model-math.md §6): every
// head's query is [q_latent | q_pe] (W_UK already folded in), every cached row is
// [c_kv | k_pe], and the output per head is the softmax-weighted sum of the rows' latents
// (W_UV is applied by the caller). All heads share the rows, so this is MQA with a wide key.
//
// One sweep per query tile in the style of flash attention: scores of a block of 64 rows,
// a running max and sum per query, the weighted latents accumulated with the old ones
// rescaled, so working memory is bounded whatever the context length and each row is read
// once per tile. Tiles are several tokens x several heads, handed out dynamically to the
// kernel threads; when there are fewer tiles than threads (decode) the rows are split
// between threads too and the partial results merged. f32 accumulation; a bf16 cache is
// widened block by block, never as a whole. The vectorized block operations are chosen
// with the matmul kernels (AVX-512 / AVX2 / scalar reference, MOESTREAM_CPU).
#pragma once

#include <cstdint>

#include "platform/scratch_arena.h"

namespace moestream::kernels {

// The cached rows: row j at rows + j * row_stride elements, latent_dim + rope_dim values of
// float32 or bfloat16 bits.
struct LatentKvRows {
  const void* rows = nullptr;
  bool bf16 = false;
  int64_t row_stride = 0;
  int64_t latent_dim = 0;
  int64_t rope_dim = 0;
  int64_t width() const { return latent_dim + rope_dim; }
};

// q: [tokens][heads][latent_dim + rope_dim]. Token t is at position first_position + t and
// attends (causally) to rows [0, first_position + t]; the KV must hold those rows. Scores
// are scale * (q . row).
struct LatentQueries {
  const float* q = nullptr;
  int64_t tokens = 0;
  int64_t heads = 0;
  int64_t first_position = 0;
  float scale = 1.0f;
};

// out: [heads][tokens][latent_dim] (head-major, so W_UV runs over each head's tokens at once).
void latent_attention(const LatentQueries& q, const LatentKvRows& kv, float* out,
                      ScratchArena& arena);

// Upper bound of the scratch one call takes from its arena for `tokens` tokens: per thread a
// tile's queries, scores and running latents, plus split partials; none of it grows with the
// context.
uint64_t latent_attention_scratch_bytes(int64_t tokens, int64_t heads, int64_t latent_dim,
                                        int64_t rope_dim, int64_t threads);

// The vectorized block operations of one instruction set (internal; the AVX files define
// theirs). Pt is a block of probabilities transposed: [rows of the block][padded queries].
struct LatentAttentionOps {
  const char* name;
  int64_t lanes;  // query tiles are padded to a multiple of this
  // dst[i] = widened bf16 src[i], i < count.
  void (*widen_bf16)(const uint16_t* src, int64_t count, float* dst);
  // st[j * mp + i] = sum_c k[j * ldk + c] * qt[c * mp + i]  for j < n, i < mp, c < width.
  void (*scores)(const float* qt, int64_t mp, const float* k, int64_t ldk, int64_t n,
                 int64_t width, float* st);
  // Online softmax of a block (queries i < mp, block rows j < n, row j0 + j visible to query
  // i when j0 + j < limit[i]): updates run_max / run_sum, replaces st by the probabilities
  // (0 where not visible) and sets alpha[i] = exp(old max - new max).
  void (*softmax)(float* st, int64_t mp, int64_t n, float j0, const float* limit,
                  float* run_max, float* run_sum, float* alpha);
  // o[i * ldo + c] = alpha[i] * o[i * ldo + c] + sum_j pt[j * mp + i] * v[j * ldv + c]
  // for i < m, c < cols, j < n.
  void (*accumulate)(const float* pt, int64_t mp, int64_t m, const float* v, int64_t ldv,
                     int64_t n, int64_t cols, const float* alpha, float* o, int64_t ldo);
};

const LatentAttentionOps& latent_attention_ops_reference();
const LatentAttentionOps& latent_attention_ops_avx2();
const LatentAttentionOps& latent_attention_ops_avx512();
// Tiles of at most 8 queries with AVX-512: scores of 8 queries, two columns per vector
// (LatentAttentionOps::scores with mp == 8); the set pairs it with 8-lane softmax.
void latent_attention_scores8_avx512(const float* qt, int64_t mp, const float* k, int64_t ldk, int64_t n,
                                     int64_t width, float* st);
const LatentAttentionOps& latent_attention_ops_avx512_8();
// The set matching the active matmul kernels (the same ISA choice and MOESTREAM_CPU).
const LatentAttentionOps& active_latent_attention_ops();
// Runs the next calls with `ops` (tests and benchmarks compare the sets); nullptr = matching.
void set_latent_attention_ops(const LatentAttentionOps* ops);

}  // namespace moestream::kernels
