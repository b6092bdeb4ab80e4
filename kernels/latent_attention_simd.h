// The block operations of latent_attention.h written once over a small vector interface
// (`S`: lanes, load/store/fma/max, compare and select, exp) and instantiated by the scalar
// reference and by each *_avx2.cpp / *_avx512.cpp file. Everything here has internal linkage
// (anonymous namespace), so no ISA-specific copy can be linked into code of another ISA
// (see matmul_isa.h).
#pragma once

#include <cstdint>

#include "kernels/latent_attention.h"

namespace moestream::kernels {
namespace {

constexpr float kNoScore = -1e30f;  // a masked score: finite, so max/exp never see inf - inf

// e^x for x <= 0 (Cephes' expf: x = n ln2 + r, a degree-6 polynomial in r, times 2^n), relative
// error about 1e-7; below -87 it returns about 2^-126 (callers mask such lanes). For the SIMD
// traits, which add min, round (to nearest), fnma (c - a b) and times_pow2 (y 2^n, n integral).
template <class S>
typename S::V cephes_exp(typename S::V x) {
  using V = typename S::V;
  x = S::max(S::min(x, S::set1(88.0f)), S::set1(-87.0f));
  const V n = S::round(S::mul(x, S::set1(1.44269504088896341f)));
  x = S::fnma(n, S::set1(0.693359375f), x);
  x = S::fnma(n, S::set1(-2.12194440e-4f), x);
  V y = S::set1(1.9875691500e-4f);
  y = S::fma(y, x, S::set1(1.3981999507e-3f));
  y = S::fma(y, x, S::set1(8.3334519073e-3f));
  y = S::fma(y, x, S::set1(4.1665795894e-2f));
  y = S::fma(y, x, S::set1(1.6666665459e-1f));
  y = S::fma(y, x, S::set1(5.0000001201e-1f));
  y = S::fma(y, S::mul(x, x), S::add(x, S::set1(1.0f)));
  return S::times_pow2(y, n);
}

template <class S>
void widen_bf16_rows(const uint16_t* src, int64_t count, float* dst) {
  int64_t i = 0;
  for (; i + S::kLanes <= count; i += S::kLanes) S::store(dst + i, S::widen_bf16(src + i));
  for (; i < count; ++i) {
    const uint32_t bits = static_cast<uint32_t>(src[i]) << 16;
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    dst[i] = f;
  }
}

// J block rows x IV query vectors: each query vector is loaded once per column for J rows.
template <class S, int J, int IV>
inline void scores_tile(const float* qt, int64_t mp, const float* k, int64_t ldk, int64_t width,
                        int64_t i0, float* st) {
  using V = typename S::V;
  V acc[J][IV];
  for (int r = 0; r < J; ++r) {
    for (int v = 0; v < IV; ++v) acc[r][v] = S::zero();
  }
  for (int64_t c = 0; c < width; ++c) {
    V qv[IV];
    for (int v = 0; v < IV; ++v) qv[v] = S::load(qt + c * mp + i0 + v * S::kLanes);
    for (int r = 0; r < J; ++r) {
      const V kb = S::set1(k[r * ldk + c]);
      for (int v = 0; v < IV; ++v) acc[r][v] = S::fma(kb, qv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < J; ++r) {
    for (int v = 0; v < IV; ++v) S::store(st + r * mp + i0 + v * S::kLanes, acc[r][v]);
  }
}

template <class S, int J, int IV>
void block_scores(const float* qt, int64_t mp, const float* k, int64_t ldk, int64_t n,
                  int64_t width, float* st) {
  const int64_t wide = IV * S::kLanes;
  int64_t j = 0;
  for (; j + J <= n; j += J) {
    int64_t i = 0;
    for (; i + wide <= mp; i += wide) scores_tile<S, J, IV>(qt, mp, k + j * ldk, ldk, width, i, st + j * mp);
    for (; i < mp; i += S::kLanes) scores_tile<S, J, 1>(qt, mp, k + j * ldk, ldk, width, i, st + j * mp);
  }
  for (; j < n; ++j) {
    int64_t i = 0;
    for (; i + wide <= mp; i += wide) scores_tile<S, 1, IV>(qt, mp, k + j * ldk, ldk, width, i, st + j * mp);
    for (; i < mp; i += S::kLanes) scores_tile<S, 1, 1>(qt, mp, k + j * ldk, ldk, width, i, st + j * mp);
  }
}

template <class S>
void block_softmax(float* st, int64_t mp, int64_t n, float j0, const float* limit,
                   float* run_max, float* run_sum, float* alpha) {
  using V = typename S::V;
  const V no_score = S::set1(kNoScore);
  for (int64_t i = 0; i < mp; i += S::kLanes) {
    const V lim = S::load(limit + i);
    const V old_max = S::load(run_max + i);
    V block_max = no_score;
    for (int64_t j = 0; j < n; ++j) {
      float* s = st + j * mp + i;
      const V masked = S::select(S::less(S::set1(j0 + static_cast<float>(j)), lim), S::load(s), no_score);
      S::store(s, masked);
      block_max = S::max(block_max, masked);
    }
    const V new_max = S::max(old_max, block_max);
    V sum = S::zero();
    for (int64_t j = 0; j < n; ++j) {
      float* s = st + j * mp + i;
      const V p = S::select(S::less(S::set1(j0 + static_cast<float>(j)), lim),
                            S::exp(S::sub(S::load(s), new_max)), S::zero());
      S::store(s, p);
      sum = S::add(sum, p);
    }
    const V a = S::exp(S::sub(old_max, new_max));
    S::store(alpha + i, a);
    S::store(run_sum + i, S::fma(S::load(run_sum + i), a, sum));
    S::store(run_max + i, new_max);
  }
}

// R queries x CV column vectors of the output: each value row is loaded once for R queries.
template <class S, int R, int CV>
inline void accumulate_tile(const float* pt, int64_t mp, int64_t i0, const float* v, int64_t ldv,
                            int64_t n, int64_t c0, const float* alpha, float* o, int64_t ldo) {
  using V = typename S::V;
  V acc[R][CV];
  for (int r = 0; r < R; ++r) {
    const V a = S::set1(alpha[i0 + r]);
    for (int w = 0; w < CV; ++w) acc[r][w] = S::mul(a, S::load(o + (i0 + r) * ldo + c0 + w * S::kLanes));
  }
  for (int64_t j = 0; j < n; ++j) {
    V vv[CV];
    for (int w = 0; w < CV; ++w) vv[w] = S::load(v + j * ldv + c0 + w * S::kLanes);
    for (int r = 0; r < R; ++r) {
      const V p = S::set1(pt[j * mp + i0 + r]);
      for (int w = 0; w < CV; ++w) acc[r][w] = S::fma(p, vv[w], acc[r][w]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int w = 0; w < CV; ++w) S::store(o + (i0 + r) * ldo + c0 + w * S::kLanes, acc[r][w]);
  }
}

template <class S, int R, int CV>
void accumulate_rows(const float* pt, int64_t mp, int64_t i0, const float* v, int64_t ldv,
                     int64_t n, int64_t cols, const float* alpha, float* o, int64_t ldo) {
  const int64_t wide = CV * S::kLanes;
  int64_t c = 0;
  for (; c + wide <= cols; c += wide) accumulate_tile<S, R, CV>(pt, mp, i0, v, ldv, n, c, alpha, o, ldo);
  for (; c + S::kLanes <= cols; c += S::kLanes) accumulate_tile<S, R, 1>(pt, mp, i0, v, ldv, n, c, alpha, o, ldo);
  for (; c < cols; ++c) {  // columns that do not fill a vector
    for (int r = 0; r < R; ++r) {
      float acc = alpha[i0 + r] * o[(i0 + r) * ldo + c];
      for (int64_t j = 0; j < n; ++j) acc += pt[j * mp + i0 + r] * v[j * ldv + c];
      o[(i0 + r) * ldo + c] = acc;
    }
  }
}

template <class S, int R, int CV>
void block_accumulate(const float* pt, int64_t mp, int64_t m, const float* v, int64_t ldv,
                      int64_t n, int64_t cols, const float* alpha, float* o, int64_t ldo) {
  int64_t i = 0;
  for (; i + R <= m; i += R) accumulate_rows<S, R, CV>(pt, mp, i, v, ldv, n, cols, alpha, o, ldo);
  for (; i < m; ++i) accumulate_rows<S, 1, CV>(pt, mp, i, v, ldv, n, cols, alpha, o, ldo);
}

}  // namespace
}  // namespace moestream::kernels
