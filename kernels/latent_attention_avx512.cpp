// The latent-attention block operations with AVX-512 (16 lanes).
#include <immintrin.h>

#include "kernels/latent_attention_simd.h"

namespace moestream::kernels {
namespace {

struct Avx512 {
  using V = __m512;
  using M = __mmask16;
  static constexpr int64_t kLanes = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static M less(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static V select(M m, V yes, V no) { return _mm512_mask_blend_ps(m, no, yes); }
  static V widen_bf16(const uint16_t* p) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V round(V x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V fnma(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
  static V times_pow2(V y, V n) {
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(y, _mm512_castsi512_ps(e));
  }
  static V exp(V x) { return cephes_exp<Avx512>(x); }
};

// 4 block rows x 4 query vectors (16 accumulators of 32 registers); 4 queries x 64 columns.
constexpr LatentAttentionOps kOps{"avx512", Avx512::kLanes, widen_bf16_rows<Avx512>,
                                  block_scores<Avx512, 4, 4>, block_softmax<Avx512>,
                                  block_accumulate<Avx512, 4, 4>};

// Scores for tiles of exactly 8 queries (decode with 8 heads or fewer), where [row][8]
// scores fill only half a vector: a vector holds columns c and c+1 of all 8 queries
// ([q0(c), q0(c+1), q1(c), ...]) and multiplies K[j][c..c+1] broadcast as a pair, so every
// lane works; adjacent lanes are added at the end, two block rows at a time, straight into
// the [row][8] layout.
template <int J>
inline void pair_scores_tile(const float* qt, const float* k, int64_t ldk, int64_t width, float* st) {
  const __m512i interleave = _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
  __m512 acc[J];
  for (int r = 0; r < J; ++r) acc[r] = _mm512_setzero_ps();
  int64_t c = 0;
  for (; c + 2 <= width; c += 2) {
    const __m512 qp = _mm512_permutexvar_ps(interleave, _mm512_loadu_ps(qt + c * 8));
    for (int r = 0; r < J; ++r) {
      double pair;
      __builtin_memcpy(&pair, k + r * ldk + c, sizeof pair);
      acc[r] = _mm512_fmadd_ps(_mm512_castpd_ps(_mm512_set1_pd(pair)), qp, acc[r]);
    }
  }
  if (c < width) {  // an odd last column, paired with zero queries
    const __m512 qp = _mm512_permutexvar_ps(interleave, _mm512_zextps256_ps512(_mm256_loadu_ps(qt + c * 8)));
    for (int r = 0; r < J; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(k[r * ldk + c]), qp, acc[r]);
  }
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  int r = 0;
  for (; r + 2 <= J; r += 2) {
    const __m512 sum = _mm512_add_ps(_mm512_permutex2var_ps(acc[r], even, acc[r + 1]),
                                     _mm512_permutex2var_ps(acc[r], odd, acc[r + 1]));
    _mm512_storeu_ps(st + r * 8, sum);
  }
  if (r < J) {
    const __m512 sum = _mm512_add_ps(_mm512_permutex2var_ps(acc[r], even, acc[r]),
                                     _mm512_permutex2var_ps(acc[r], odd, acc[r]));
    _mm256_storeu_ps(st + r * 8, _mm512_castps512_ps256(sum));
  }
}

}  // namespace

const LatentAttentionOps& latent_attention_ops_avx512() { return kOps; }

void latent_attention_scores8_avx512(const float* qt, int64_t mp, const float* k, int64_t ldk, int64_t n,
                                     int64_t width, float* st) {
  (void)mp;  // always 8
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) pair_scores_tile<8>(qt, k + j * ldk, ldk, width, st + j * 8);
  for (; j < n; ++j) pair_scores_tile<1>(qt, k + j * ldk, ldk, width, st + j * 8);
}

}  // namespace moestream::kernels
