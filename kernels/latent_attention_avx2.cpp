// The latent-attention block operations with AVX2 + FMA (8 lanes).
#include <immintrin.h>

#include "kernels/latent_attention_simd.h"

namespace moestream::kernels {
namespace {

struct Avx2 {
  using V = __m256;
  using M = __m256;
  static constexpr int64_t kLanes = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static M less(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static V select(M m, V yes, V no) { return _mm256_blendv_ps(no, yes, m); }
  static V widen_bf16(const uint16_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V round(V x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V fnma(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
  static V times_pow2(V y, V n) {
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
  }
  static V exp(V x) { return cephes_exp<Avx2>(x); }
};

// 16 registers: 4 block rows x 2 query vectors, 4 queries x 16 columns.
constexpr LatentAttentionOps kOps{"avx2", Avx2::kLanes, widen_bf16_rows<Avx2>,
                                  block_scores<Avx2, 4, 2>, block_softmax<Avx2>,
                                  block_accumulate<Avx2, 4, 2>};

}  // namespace

const LatentAttentionOps& latent_attention_ops_avx2() { return kOps; }

}  // namespace moestream::kernels
