// Batch-1 GEMV with AVX-512 for FP8 E4M3 (block-scaled) and BF16 weights: memory bound, so
// the goal is to decode weights as fast as they stream in. Tiles of 4 rows share each x load;
// the rows of a tile come from 4 sequential streams (row_streams.h); per row the operations
// are the same whatever the tile, so results do not depend on how rows are split between
// threads.
#include "kernels/matmul_isa.h"
#include "kernels/row_streams.h"
#include "kernels/simd_avx512.h"

namespace moestream::kernels {
namespace {

constexpr float kTwoTo8 = 256.0f;

// x_perm (may be null): x with each full 64-column group g0 stored as
// [x[g0 + 0, 2, .., 62], x[g0 + 1, 3, .., 63]].
// rows: the R absolute row indices of the tile; y[rows[i] - row_begin] receives row i. While
// a row is read, each stream is prefetched kStreamPrefetchBytes ahead: with the hardware
// prefetchers alone the row streams waited on DRAM (docs/kernels.md, runs 5 and 6); the
// in-cache speed is unchanged.
template <int R>
void fp8_rows_tile(const WeightRef& w, const BlockGeometry& g, const int64_t* rows, const float* x,
                   const float* x_perm, float* y, int64_t row_begin) {
  const int64_t cols = w.cols;
  const __m512i f16_mask = _mm512_set1_epi16(static_cast<int16_t>(0xbf80));
  const uint8_t* row_ptr[R];
  for (int i = 0; i < R; ++i) row_ptr[i] = static_cast<const uint8_t*>(w.data) + rows[i] * cols;
  __m512 acc[R];
  for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t j0 = 0, b = 0; j0 < cols; j0 += g.block_cols, ++b) {
    const int64_t j1 = min_i64(j0 + g.block_cols, cols);
    __m512 part[R], part_hi[R];
    for (int i = 0; i < R; ++i) part[i] = part_hi[i] = _mm512_setzero_ps();
    int64_t j = j0;
    // 64 bytes at a time as 32 little-endian words: the odd byte of each word is already in
    // the high half, the even byte is shifted there; an arithmetic shift by 1 and a mask then
    // give the f16 bits with no widening shuffle (+10% bytes per CPU-second over widening 32
    // bytes). The products come out even-first, so x is read permuted (x_perm, see below).
    for (; j + 64 <= j1 && (j & 63) == 0 && x_perm != nullptr; j += 64) {
      const float* xg = x_perm + j;
      const __m512 x_even_lo = _mm512_loadu_ps(xg), x_even_hi = _mm512_loadu_ps(xg + 16);
      const __m512 x_odd_lo = _mm512_loadu_ps(xg + 32), x_odd_hi = _mm512_loadu_ps(xg + 48);
      for (int i = 0; i < R; ++i) {
        const __m512i words = _mm512_loadu_si512(row_ptr[i] + j);
        _mm_prefetch(reinterpret_cast<const char*>(row_ptr[i] + j + kStreamPrefetchBytes), _MM_HINT_T0);
        const __m512i odd = _mm512_and_si512(_mm512_srai_epi16(words, 1), f16_mask);
        const __m512i even = _mm512_and_si512(_mm512_srai_epi16(_mm512_slli_epi16(words, 8), 1), f16_mask);
        part[i] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm512_castsi512_si256(even)), x_even_lo, part[i]);
        part_hi[i] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm512_extracti64x4_epi64(even, 1)), x_even_hi, part_hi[i]);
        part[i] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm512_castsi512_si256(odd)), x_odd_lo, part[i]);
        part_hi[i] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm512_extracti64x4_epi64(odd, 1)), x_odd_hi, part_hi[i]);
      }
    }
    // Widening 32 bytes per instruction for what is left (blocks not aligned to 64).
    for (; j + 32 <= j1; j += 32) {
      const __m512 x_lo = _mm512_loadu_ps(x + j);
      const __m512 x_hi = _mm512_loadu_ps(x + j + 16);
      for (int i = 0; i < R; ++i) {
        const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row_ptr[i] + j));
        __m512i h = _mm512_cvtepi8_epi16(bytes);
        h = _mm512_and_si512(_mm512_slli_epi16(h, 7), f16_mask);
        part[i] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm512_castsi512_si256(h)), x_lo, part[i]);
        part_hi[i] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1)), x_hi, part_hi[i]);
      }
    }
    for (int i = 0; i < R; ++i) part[i] = _mm512_add_ps(part[i], part_hi[i]);
    for (; j + 16 <= j1; j += 16) {
      const __m512 xv = _mm512_loadu_ps(x + j);
      for (int i = 0; i < R; ++i) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row_ptr[i] + j));
        part[i] = _mm512_fmadd_ps(e4m3x16_times_2m8(bytes), xv, part[i]);
      }
    }
    if (j < j1) {
      const __mmask16 m = tail_mask16(j1 - j);
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + j);
      for (int i = 0; i < R; ++i) {
        const __m128i bytes = _mm_maskz_loadu_epi8(m, row_ptr[i] + j);
        part[i] = _mm512_fmadd_ps(e4m3x16_times_2m8(bytes), xv, part[i]);
      }
    }
    for (int i = 0; i < R; ++i) {
      const float scale = row_block_scale(w, g, rows[i], b);
      acc[i] = _mm512_fmadd_ps(_mm512_mul_ps(part[i], _mm512_set1_ps(kTwoTo8)), _mm512_set1_ps(scale), acc[i]);
    }
  }
  for (int i = 0; i < R; ++i) y[rows[i] - row_begin] = reduce_add16(acc[i]);
}

template <int R>
void bf16_rows_tile(const WeightRef& w, const int64_t* rows, const float* x, float* y, int64_t row_begin) {
  const int64_t cols = w.cols;
  const uint16_t* row_ptr[R];
  for (int i = 0; i < R; ++i) row_ptr[i] = static_cast<const uint16_t*>(w.data) + rows[i] * cols;
  __m512 acc[R];
  for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= cols; j += 16) {
    const __m512 xv = _mm512_loadu_ps(x + j);
    for (int i = 0; i < R; ++i) {
      if ((j & 31) == 0) _mm_prefetch(reinterpret_cast<const char*>(row_ptr[i] + j) + kStreamPrefetchBytes, _MM_HINT_T0);
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row_ptr[i] + j));
      acc[i] = _mm512_fmadd_ps(bf16x16_to_f32(h), xv, acc[i]);
    }
  }
  if (j < cols) {
    const __mmask16 m = tail_mask16(cols - j);
    const __m512 xv = _mm512_maskz_loadu_ps(m, x + j);
    for (int i = 0; i < R; ++i) {
      const __m256i h = _mm256_maskz_loadu_epi16(m, row_ptr[i] + j);
      acc[i] = _mm512_fmadd_ps(bf16x16_to_f32(h), xv, acc[i]);
    }
  }
  for (int i = 0; i < R; ++i) y[rows[i] - row_begin] = reduce_add16(acc[i]);
}

}  // namespace

void fp8_gemv_rows_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end,
                          const float* x, float* y) {
  const BlockGeometry g = block_geometry(w);
  // The permuted x lives on the stack (up to 128 KB); wider rows use the widening path.
  constexpr int64_t kMaxPermuted = 32768;
  alignas(64) float x_perm_storage[kMaxPermuted];
  const float* x_perm = nullptr;
  if (w.cols <= kMaxPermuted) {
    for (int64_t g0 = 0; g0 + 64 <= w.cols; g0 += 64) {
      for (int k = 0; k < 32; ++k) {
        x_perm_storage[g0 + k] = x[g0 + 2 * k];
        x_perm_storage[g0 + 32 + k] = x[g0 + 2 * k + 1];
      }
    }
    x_perm = x_perm_storage;
  }
  for_each_stream_tile<4>(row_begin, row_end, [&]<int R>(const int64_t* rows) {
    fp8_rows_tile<R>(w, g, rows, x, x_perm, y, row_begin);
  });
}

void bf16_gemv_rows_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end,
                           const float* x, float* y) {
  for_each_stream_tile<4>(row_begin, row_end, [&]<int R>(const int64_t* rows) {
    bf16_rows_tile<R>(w, rows, x, y, row_begin);
  });
}

}  // namespace moestream::kernels
