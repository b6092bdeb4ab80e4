// Batch-1 GEMV with AVX-512 for FP8 E4M3 (block-scaled) and BF16 weights: memory bound, so
// the goal is to decode weights as fast as they stream in. Tiles of 4 rows share each x load;
// the rows of a tile come from 4 sequential streams (row_streams.h); per row the operations
// are the same whatever the tile, so results do not depend on how rows are split between
// threads.
#include "kernels/matmul_isa.h"
#include "kernels/row_streams.h"
#include "kernels/simd_avx512.h"

#include <cstdlib>

namespace moestream::kernels {
namespace {

constexpr float kTwoTo8 = 256.0f;

// The token side of a tile: T activation vectors (x, and x_perm if not null: x with each full
// 64-column group g0 stored as [x[g0 + 0, 2, .., 62], x[g0 + 1, 3, .., 63]]), row-major with
// stride `cols`; token t of row r goes to y[t * ldy + r - row_begin].
struct Tokens {
  const float* x;
  const float* x_perm;
  float* y;
  int64_t ldy;
  int64_t row_begin;
};

// R rows (absolute indices in `rows`) times T tokens: each 64-byte piece of a row is decoded
// once and multiplied with every token, so a few tokens cost little more than one. While a
// row is read, its stream is prefetched kStreamPrefetchBytes ahead: with the hardware
// prefetchers alone the row streams waited on DRAM (docs/kernels.md, runs 5 and 6); the
// in-cache speed is unchanged. Per (row, token) the operations do not depend on R, T or the
// tile, so results do not depend on how rows are split between threads.
template <int R, int T>
void fp8_rows_tile(const WeightRef& w, const BlockGeometry& g, const int64_t* rows, const Tokens& tok) {
  const int64_t cols = w.cols;
  const __m512i f16_mask = _mm512_set1_epi16(static_cast<int16_t>(0xbf80));
  const uint8_t* row_ptr[R];
  for (int i = 0; i < R; ++i) row_ptr[i] = static_cast<const uint8_t*>(w.data) + rows[i] * cols;
  __m512 acc[R][T];
  for (int i = 0; i < R; ++i) {
    for (int t = 0; t < T; ++t) acc[i][t] = _mm512_setzero_ps();
  }
  for (int64_t j0 = 0, b = 0; j0 < cols; j0 += g.block_cols, ++b) {
    const int64_t j1 = min_i64(j0 + g.block_cols, cols);
    __m512 part[R][T], part_hi[R][T];
    for (int i = 0; i < R; ++i) {
      for (int t = 0; t < T; ++t) part[i][t] = part_hi[i][t] = _mm512_setzero_ps();
    }
    int64_t j = j0;
    // 64 bytes at a time as 32 little-endian words: the odd byte of each word is already in
    // the high half, the even byte is shifted there; an arithmetic shift by 1 and a mask then
    // give the f16 bits with no widening shuffle (+10% bytes per CPU-second over widening 32
    // bytes). The products come out even-first, so x is read permuted (x_perm).
    for (; j + 64 <= j1 && (j & 63) == 0 && tok.x_perm != nullptr; j += 64) {
      for (int i = 0; i < R; ++i) {
        const __m512i words = _mm512_loadu_si512(row_ptr[i] + j);
        _mm_prefetch(reinterpret_cast<const char*>(row_ptr[i] + j + kStreamPrefetchBytes), _MM_HINT_T0);
        const __m512i odd = _mm512_and_si512(_mm512_srai_epi16(words, 1), f16_mask);
        const __m512i even = _mm512_and_si512(_mm512_srai_epi16(_mm512_slli_epi16(words, 8), 1), f16_mask);
        const __m512 even_lo = _mm512_cvtph_ps(_mm512_castsi512_si256(even));
        const __m512 even_hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(even, 1));
        const __m512 odd_lo = _mm512_cvtph_ps(_mm512_castsi512_si256(odd));
        const __m512 odd_hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(odd, 1));
        for (int t = 0; t < T; ++t) {
          const float* xg = tok.x_perm + t * cols + j;
          part[i][t] = _mm512_fmadd_ps(even_lo, _mm512_loadu_ps(xg), part[i][t]);
          part_hi[i][t] = _mm512_fmadd_ps(even_hi, _mm512_loadu_ps(xg + 16), part_hi[i][t]);
          part[i][t] = _mm512_fmadd_ps(odd_lo, _mm512_loadu_ps(xg + 32), part[i][t]);
          part_hi[i][t] = _mm512_fmadd_ps(odd_hi, _mm512_loadu_ps(xg + 48), part_hi[i][t]);
        }
      }
    }
    // Widening 32 bytes per instruction for what is left (blocks not aligned to 64).
    for (; j + 32 <= j1; j += 32) {
      for (int i = 0; i < R; ++i) {
        const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row_ptr[i] + j));
        __m512i h = _mm512_cvtepi8_epi16(bytes);
        h = _mm512_and_si512(_mm512_slli_epi16(h, 7), f16_mask);
        const __m512 lo = _mm512_cvtph_ps(_mm512_castsi512_si256(h));
        const __m512 hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1));
        for (int t = 0; t < T; ++t) {
          const float* xt = tok.x + t * cols + j;
          part[i][t] = _mm512_fmadd_ps(lo, _mm512_loadu_ps(xt), part[i][t]);
          part_hi[i][t] = _mm512_fmadd_ps(hi, _mm512_loadu_ps(xt + 16), part_hi[i][t]);
        }
      }
    }
    for (int i = 0; i < R; ++i) {
      for (int t = 0; t < T; ++t) part[i][t] = _mm512_add_ps(part[i][t], part_hi[i][t]);
    }
    for (; j + 16 <= j1; j += 16) {
      for (int i = 0; i < R; ++i) {
        const __m512 v = e4m3x16_times_2m8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row_ptr[i] + j)));
        for (int t = 0; t < T; ++t) part[i][t] = _mm512_fmadd_ps(v, _mm512_loadu_ps(tok.x + t * cols + j), part[i][t]);
      }
    }
    if (j < j1) {
      const __mmask16 m = tail_mask16(j1 - j);
      for (int i = 0; i < R; ++i) {
        const __m512 v = e4m3x16_times_2m8(_mm_maskz_loadu_epi8(m, row_ptr[i] + j));
        for (int t = 0; t < T; ++t) {
          part[i][t] = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(m, tok.x + t * cols + j), part[i][t]);
        }
      }
    }
    for (int i = 0; i < R; ++i) {
      const __m512 scale = _mm512_set1_ps(row_block_scale(w, g, rows[i], b));
      for (int t = 0; t < T; ++t) {
        acc[i][t] = _mm512_fmadd_ps(_mm512_mul_ps(part[i][t], _mm512_set1_ps(kTwoTo8)), scale, acc[i][t]);
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int t = 0; t < T; ++t) tok.y[t * tok.ldy + rows[i] - tok.row_begin] = reduce_add16(acc[i][t]);
  }
}

// Up to this many permuted activation floats live on the stack; more go to the heap.
constexpr int64_t kStackPermuted = 32768;

// Writes x (n rows of `cols`) permuted as Tokens::x_perm expects.
void permute_tokens(const float* x, int64_t n, int64_t cols, float* x_perm) {
  for (int64_t t = 0; t < n; ++t) {
    const float* xs = x + t * cols;
    float* xp = x_perm + t * cols;
    for (int64_t g0 = 0; g0 + 64 <= cols; g0 += 64) {
      for (int k = 0; k < 32; ++k) {
        xp[g0 + k] = xs[g0 + 2 * k];
        xp[g0 + 32 + k] = xs[g0 + 2 * k + 1];
      }
    }
  }
}

// Tokens in groups of 4 (then 3, 2 or 1) against each tile of rows, so the tile is read from
// memory once for all of them: 4 row streams for one token, 2 for several (register budget).
void fp8_tiles(const WeightRef& w, const BlockGeometry& g, int64_t row_begin, int64_t row_end, const Tokens& tok,
               int64_t n) {
  auto groups = [&]<int R>(const int64_t* rows) {
    for (int64_t t0 = 0; t0 < n;) {
      const Tokens sub{tok.x + t0 * w.cols, tok.x_perm ? tok.x_perm + t0 * w.cols : nullptr, tok.y + t0 * tok.ldy,
                       tok.ldy, tok.row_begin};
      const int64_t left = n - t0;
      if (left >= 4) {
        fp8_rows_tile<R, 4>(w, g, rows, sub);
        t0 += 4;
      } else if (left == 3) {
        fp8_rows_tile<R, 3>(w, g, rows, sub);
        t0 += 3;
      } else if (left == 2) {
        fp8_rows_tile<R, 2>(w, g, rows, sub);
        t0 += 2;
      } else {
        fp8_rows_tile<R, 1>(w, g, rows, sub);
        t0 += 1;
      }
    }
  };
  if (n == 1) {
    for_each_stream_tile<4>(row_begin, row_end, [&]<int R>(const int64_t* rows) { fp8_rows_tile<R, 1>(w, g, rows, tok); });
  } else {
    for_each_stream_tile<2>(row_begin, row_end, groups);
  }
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

// bf16_rows_tile for T tokens: each 16-column piece of a row is widened once and multiplied
// with every token. Per (row, token) the operations are those of the one-token tile, so the
// result does not depend on how many tokens share the call.
template <int R, int T>
void bf16_rows_tokens_tile(const WeightRef& w, const int64_t* rows, const float* x, float* y, int64_t ldy,
                           int64_t row_begin) {
  const int64_t cols = w.cols;
  const uint16_t* row_ptr[R];
  for (int i = 0; i < R; ++i) row_ptr[i] = static_cast<const uint16_t*>(w.data) + rows[i] * cols;
  __m512 acc[R][T];
  for (int i = 0; i < R; ++i) {
    for (int t = 0; t < T; ++t) acc[i][t] = _mm512_setzero_ps();
  }
  int64_t j = 0;
  for (; j + 16 <= cols; j += 16) {
    for (int i = 0; i < R; ++i) {
      if ((j & 31) == 0) _mm_prefetch(reinterpret_cast<const char*>(row_ptr[i] + j) + kStreamPrefetchBytes, _MM_HINT_T0);
      const __m512 v = bf16x16_to_f32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row_ptr[i] + j)));
      for (int t = 0; t < T; ++t) acc[i][t] = _mm512_fmadd_ps(v, _mm512_loadu_ps(x + t * cols + j), acc[i][t]);
    }
  }
  if (j < cols) {
    const __mmask16 m = tail_mask16(cols - j);
    for (int i = 0; i < R; ++i) {
      const __m512 v = bf16x16_to_f32(_mm256_maskz_loadu_epi16(m, row_ptr[i] + j));
      for (int t = 0; t < T; ++t) acc[i][t] = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(m, x + t * cols + j), acc[i][t]);
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int t = 0; t < T; ++t) y[t * ldy + rows[i] - row_begin] = reduce_add16(acc[i][t]);
  }
}

}  // namespace

void bf16_gemv_tokens_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end, const float* x, int64_t n,
                             float* y, int64_t ldy) {
  // Tokens in groups of 4 (then 3, 2 or 1) against tiles of 2 row streams (register budget).
  for_each_stream_tile<2>(row_begin, row_end, [&]<int R>(const int64_t* rows) {
    for (int64_t t0 = 0; t0 < n;) {
      const float* xt = x + t0 * w.cols;
      float* yt = y + t0 * ldy;
      const int64_t left = n - t0;
      if (left >= 4) {
        bf16_rows_tokens_tile<R, 4>(w, rows, xt, yt, ldy, row_begin);
        t0 += 4;
      } else if (left == 3) {
        bf16_rows_tokens_tile<R, 3>(w, rows, xt, yt, ldy, row_begin);
        t0 += 3;
      } else if (left == 2) {
        bf16_rows_tokens_tile<R, 2>(w, rows, xt, yt, ldy, row_begin);
        t0 += 2;
      } else {
        bf16_rows_tokens_tile<R, 1>(w, rows, xt, yt, ldy, row_begin);
        t0 += 1;
      }
    }
  });
}

void fp8_gemv_rows_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end, const float* x,
                          int64_t n, float* y, int64_t ldy) {
  if (n <= 0 || row_end <= row_begin) return;
  const BlockGeometry g = block_geometry(w);
  // The permuted x: on the stack up to 128 KB, else on the heap (plain C allocation: no
  // std templates in ISA files, see matmul_isa.h); without memory, the widening path.
  alignas(64) float stack_perm[kStackPermuted];
  const int64_t perm_floats = n * w.cols;
  float* heap_perm = nullptr;
  float* x_perm = stack_perm;
  if (perm_floats > kStackPermuted) {
    heap_perm = static_cast<float*>(std::malloc(static_cast<size_t>(perm_floats) * sizeof(float)));
    x_perm = heap_perm;
  }
  if (x_perm != nullptr) permute_tokens(x, n, w.cols, x_perm);
  fp8_tiles(w, g, row_begin, row_end, Tokens{x, x_perm, y, ldy, row_begin}, n);
  std::free(heap_perm);
}

void bf16_gemv_rows_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end,
                           const float* x, float* y) {
  for_each_stream_tile<4>(row_begin, row_end, [&]<int R>(const int64_t* rows) {
    bf16_rows_tile<R>(w, rows, x, y, row_begin);
  });
}

}  // namespace moestream::kernels
