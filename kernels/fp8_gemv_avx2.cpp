// Batch-1 GEMV with AVX2 + FMA + F16C for FP8 E4M3 (block-scaled) and BF16 weights; the same
// scheme as fp8_gemv_avx512.cpp with 8-wide vectors. Tails shorter than a vector go through a
// zero-filled copy (AVX2 has no byte-masked loads).
#include "kernels/matmul_isa.h"
#include "kernels/row_streams.h"
#include "kernels/simd_avx2.h"

namespace moestream::kernels {
namespace {

// R rows (absolute indices, row_streams.h) times T tokens (x is [T, cols]; token t of row r
// goes to y[t * ldy + r - row_begin]): each 16 bytes of a row are decoded once for all T
// tokens. Each stream is prefetched kStreamPrefetchBytes ahead (see fp8_gemv_avx512.cpp).
template <int R, int T>
void fp8_rows_tile(const WeightRef& w, const BlockGeometry& g, const int64_t* rows, const float* x, float* y,
                   int64_t ldy, int64_t row_begin) {
  const int64_t cols = w.cols;
  const uint8_t* row_ptr[R];
  for (int i = 0; i < R; ++i) row_ptr[i] = static_cast<const uint8_t*>(w.data) + rows[i] * cols;
  __m256 acc[R][T];
  for (int i = 0; i < R; ++i) {
    for (int t = 0; t < T; ++t) acc[i][t] = _mm256_setzero_ps();
  }
  for (int64_t j0 = 0, b = 0; j0 < cols; j0 += g.block_cols, ++b) {
    const int64_t j1 = min_i64(j0 + g.block_cols, cols);
    __m256 part_lo[R][T], part_hi[R][T];
    for (int i = 0; i < R; ++i) {
      for (int t = 0; t < T; ++t) part_lo[i][t] = part_hi[i][t] = _mm256_setzero_ps();
    }
    int64_t j = j0;
    for (; j + 16 <= j1; j += 16) {
      const bool line_start = (j & 63) == 0;
      for (int i = 0; i < R; ++i) {
        if (line_start) _mm_prefetch(reinterpret_cast<const char*>(row_ptr[i] + j + kStreamPrefetchBytes), _MM_HINT_T0);
        __m256 lo, hi;
        e4m3x16_times_2m8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row_ptr[i] + j)), &lo, &hi);
        for (int t = 0; t < T; ++t) {
          part_lo[i][t] = _mm256_fmadd_ps(lo, _mm256_loadu_ps(x + t * cols + j), part_lo[i][t]);
          part_hi[i][t] = _mm256_fmadd_ps(hi, _mm256_loadu_ps(x + t * cols + j + 8), part_hi[i][t]);
        }
      }
    }
    if (j < j1) {
      const int64_t n = j1 - j;
      for (int i = 0; i < R; ++i) {
        alignas(16) uint8_t wt[16] = {};
        std::memcpy(wt, row_ptr[i] + j, static_cast<size_t>(n));
        __m256 lo, hi;
        e4m3x16_times_2m8(_mm_load_si128(reinterpret_cast<const __m128i*>(wt)), &lo, &hi);
        for (int t = 0; t < T; ++t) {
          alignas(32) float xt[16] = {};
          std::memcpy(xt, x + t * cols + j, sizeof(float) * static_cast<size_t>(n));
          part_lo[i][t] = _mm256_fmadd_ps(lo, _mm256_load_ps(xt), part_lo[i][t]);
          part_hi[i][t] = _mm256_fmadd_ps(hi, _mm256_load_ps(xt + 8), part_hi[i][t]);
        }
      }
    }
    for (int i = 0; i < R; ++i) {
      const __m256 scale = _mm256_set1_ps(row_block_scale(w, g, rows[i], b));
      for (int t = 0; t < T; ++t) {
        const __m256 part = _mm256_mul_ps(_mm256_add_ps(part_lo[i][t], part_hi[i][t]), _mm256_set1_ps(256.0f));
        acc[i][t] = _mm256_fmadd_ps(part, scale, acc[i][t]);
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int t = 0; t < T; ++t) y[t * ldy + rows[i] - row_begin] = reduce_add8(acc[i][t]);
  }
}

template <int R>
void bf16_rows_tile(const WeightRef& w, const int64_t* rows, const float* x, float* y, int64_t row_begin) {
  const int64_t cols = w.cols;
  const uint16_t* row_ptr[R];
  for (int i = 0; i < R; ++i) row_ptr[i] = static_cast<const uint16_t*>(w.data) + rows[i] * cols;
  __m256 acc_lo[R], acc_hi[R];
  for (int i = 0; i < R; ++i) acc_lo[i] = acc_hi[i] = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= cols; j += 16) {
    const __m256 x_lo = _mm256_loadu_ps(x + j);
    const __m256 x_hi = _mm256_loadu_ps(x + j + 8);
    for (int i = 0; i < R; ++i) {
      const uint16_t* p = row_ptr[i] + j;
      if ((j & 31) == 0) _mm_prefetch(reinterpret_cast<const char*>(p) + kStreamPrefetchBytes, _MM_HINT_T0);
      acc_lo[i] = _mm256_fmadd_ps(bf16x8_to_f32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), x_lo, acc_lo[i]);
      acc_hi[i] = _mm256_fmadd_ps(bf16x8_to_f32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8))), x_hi, acc_hi[i]);
    }
  }
  if (j < cols) {
    const int64_t n = cols - j;
    alignas(32) float xt[16] = {};
    std::memcpy(xt, x + j, sizeof(float) * static_cast<size_t>(n));
    for (int i = 0; i < R; ++i) {
      alignas(16) uint16_t wt[16] = {};
      std::memcpy(wt, row_ptr[i] + j, sizeof(uint16_t) * static_cast<size_t>(n));
      acc_lo[i] = _mm256_fmadd_ps(bf16x8_to_f32(_mm_load_si128(reinterpret_cast<const __m128i*>(wt))), _mm256_load_ps(xt), acc_lo[i]);
      acc_hi[i] = _mm256_fmadd_ps(bf16x8_to_f32(_mm_load_si128(reinterpret_cast<const __m128i*>(wt + 8))), _mm256_load_ps(xt + 8), acc_hi[i]);
    }
  }
  for (int i = 0; i < R; ++i) y[rows[i] - row_begin] = reduce_add8(_mm256_add_ps(acc_lo[i], acc_hi[i]));
}

}  // namespace

void fp8_gemv_rows_avx2(const WeightRef& w, int64_t row_begin, int64_t row_end, const float* x, int64_t n,
                        float* y, int64_t ldy) {
  const BlockGeometry g = block_geometry(w);
  if (n == 1) {
    for_each_stream_tile<4>(row_begin, row_end, [&]<int R>(const int64_t* rows) {
      fp8_rows_tile<R, 1>(w, g, rows, x, y, ldy, row_begin);
    });
    return;
  }
  // Several tokens: 2 row streams, tokens in pairs (16 ymm registers).
  for_each_stream_tile<2>(row_begin, row_end, [&]<int R>(const int64_t* rows) {
    int64_t t = 0;
    for (; t + 2 <= n; t += 2) fp8_rows_tile<R, 2>(w, g, rows, x + t * w.cols, y + t * ldy, ldy, row_begin);
    if (t < n) fp8_rows_tile<R, 1>(w, g, rows, x + t * w.cols, y + t * ldy, ldy, row_begin);
  });
}

void bf16_gemv_rows_avx2(const WeightRef& w, int64_t row_begin, int64_t row_end,
                         const float* x, float* y) {
  for_each_stream_tile<4>(row_begin, row_end, [&]<int R>(const int64_t* rows) {
    bf16_rows_tile<R>(w, rows, x, y, row_begin);
  });
}

}  // namespace moestream::kernels
