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

// The column (of a 64-column group) that element e (0..15) of decode_e4m3x64's vector v (0..3)
// holds: v = 2 half + hi (even/odd bytes, low/high four words of each 128-bit lane), e = 4 L + q
// (lane L, word q) -> column 16 L + 8 hi + 2 q + half.
constexpr int decoded_column(int v, int e) { return 16 * (e >> 2) + 8 * (v & 1) + 2 * (e & 3) + (v >> 1); }

// 64 E4M3 bytes -> four vectors of floats equal to value * 2^-120, exactly, subnormals
// included. Read as 32 little-endian words, the odd byte of each is in the high half and the
// even one is shifted there; an arithmetic shift by 4 and the mask 0x87f0 leave the BF16 bits
// (E4M3's sign, exponent field and mantissa land where BF16 keeps them), and zero words
// interleaved below them make f32. No f16 conversion: vcvtph2ps held the old loop to 16-19
// GB/s per core with the weights in L2, this decode does 24 (docs/kernels.md, run 7). The
// columns come out in the unpacks' order: element e of out[v] holds column
// decoded_column(v, e).
inline void decode_e4m3x64(__m512i words, __m512 (&out)[4]) {
  const __m512i bf16_mask = _mm512_set1_epi16(static_cast<int16_t>(0x87f0));
  const __m512i zero = _mm512_setzero_si512();
  const __m512i odd = _mm512_and_si512(_mm512_srai_epi16(words, 4), bf16_mask);
  const __m512i even = _mm512_and_si512(_mm512_srai_epi16(_mm512_slli_epi16(words, 8), 4), bf16_mask);
  out[0] = _mm512_castsi512_ps(_mm512_unpacklo_epi16(zero, even));
  out[1] = _mm512_castsi512_ps(_mm512_unpackhi_epi16(zero, even));
  out[2] = _mm512_castsi512_ps(_mm512_unpacklo_epi16(zero, odd));
  out[3] = _mm512_castsi512_ps(_mm512_unpackhi_epi16(zero, odd));
}

// The token side of a tile: T activation vectors (x, row-major with stride `cols`), and for
// the 64-byte loop x_perm (if not null): token t's x times 2^k[t] with each full 64-column group
// g0 stored in the order the decoded words come out (permute_tokens); token t of row r goes to
// y[t * ldy + r - row_begin].
struct Tokens {
  const float* x;
  const float* x_perm;
  const float* unscale;     // per token, 2^(120 - k[t]): the loop's weights are value * 2^-120
  const float* rest_scale;  // per token, 2^(k[t] - 112): the f32 path's sums into the loop's scale
  float* y;
  int64_t ldy;
  int64_t row_begin;
  Tokens advanced(int64_t t0, int64_t cols) const {
    return Tokens{x + t0 * cols, x_perm ? x_perm + t0 * cols : nullptr, unscale + t0, rest_scale + t0, y + t0 * ldy,
                  ldy, row_begin};
  }
};

// Columns [j, j1) of a block that the 64-byte loop leaves (blocks not aligned to 64, row
// ends), exactly in f32 as value * 2^-8, then added into part at its scale: 32 bytes at a time
// widened, then 16, then a masked rest.
template <int R, int T>
void fp8_rest_columns(const uint8_t* const (&row_ptr)[R], const Tokens& tok, int64_t cols, int64_t j, int64_t j1,
                      __m512 (&part)[R][T]) {
  const __m512i f16_mask = _mm512_set1_epi16(static_cast<int16_t>(0xbf80));
  __m512 rest[R][T], rest_hi[R][T];
  for (int i = 0; i < R; ++i) {
    for (int t = 0; t < T; ++t) rest[i][t] = rest_hi[i][t] = _mm512_setzero_ps();
  }
  for (; j + 32 <= j1; j += 32) {
    for (int i = 0; i < R; ++i) {
      const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row_ptr[i] + j));
      __m512i h = _mm512_cvtepi8_epi16(bytes);
      h = _mm512_and_si512(_mm512_slli_epi16(h, 7), f16_mask);
      const __m512 lo = _mm512_cvtph_ps(_mm512_castsi512_si256(h));
      const __m512 hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1));
      for (int t = 0; t < T; ++t) {
        const float* xt = tok.x + t * cols + j;
        rest[i][t] = _mm512_fmadd_ps(lo, _mm512_loadu_ps(xt), rest[i][t]);
        rest_hi[i][t] = _mm512_fmadd_ps(hi, _mm512_loadu_ps(xt + 16), rest_hi[i][t]);
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int t = 0; t < T; ++t) rest[i][t] = _mm512_add_ps(rest[i][t], rest_hi[i][t]);
  }
  for (; j + 16 <= j1; j += 16) {
    for (int i = 0; i < R; ++i) {
      const __m512 v = e4m3x16_times_2m8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row_ptr[i] + j)));
      for (int t = 0; t < T; ++t) rest[i][t] = _mm512_fmadd_ps(v, _mm512_loadu_ps(tok.x + t * cols + j), rest[i][t]);
    }
  }
  if (j < j1) {
    const __mmask16 m = tail_mask16(j1 - j);
    for (int i = 0; i < R; ++i) {
      const __m512 v = e4m3x16_times_2m8(_mm_maskz_loadu_epi8(m, row_ptr[i] + j));
      for (int t = 0; t < T; ++t) {
        rest[i][t] = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(m, tok.x + t * cols + j), rest[i][t]);
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int t = 0; t < T; ++t) {
      part[i][t] = _mm512_fmadd_ps(rest[i][t], _mm512_set1_ps(tok.rest_scale[t]), part[i][t]);
    }
  }
}

// R rows (absolute indices in `rows`) times T tokens: each 64-byte piece of a row is decoded
// once and multiplied with every token, so a few tokens cost little more than one. While a
// row is read, its stream is prefetched into L2 kStreamPrefetchL2Bytes ahead: with the hardware
// prefetchers alone the row streams waited on DRAM (docs/kernels.md, runs 5 and 6), and with
// this decode's speed 1 KiB into L1 was too close (run 7). Per (row, token) the operations do
// not depend on R, T or the tile, so results do not depend on how rows are split between
// threads.
template <int R, int T>
void fp8_rows_tile(const WeightRef& w, const BlockGeometry& g, const int64_t* rows, const Tokens& tok) {
  const int64_t cols = w.cols;
  const uint8_t* row_ptr[R];
  int64_t scale_index[R];
  for (int i = 0; i < R; ++i) {
    row_ptr[i] = static_cast<const uint8_t*>(w.data) + rows[i] * cols;
    scale_index[i] = row_scale_index(g, rows[i]);
  }
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
    // 64 bytes at a time (decode_e4m3x64); x is pre-scaled by 2^k so the products stay normal.
    for (; j + 64 <= j1 && (j & 63) == 0 && tok.x_perm != nullptr; j += 64) {
      for (int i = 0; i < R; ++i) {
        const __m512i words = _mm512_loadu_si512(row_ptr[i] + j);
        _mm_prefetch(reinterpret_cast<const char*>(row_ptr[i] + j + kStreamPrefetchL2Bytes), _MM_HINT_T2);
        __m512 v[4];
        decode_e4m3x64(words, v);
        for (int t = 0; t < T; ++t) {
          const float* xg = tok.x_perm + t * cols + j;
          part[i][t] = _mm512_fmadd_ps(v[0], _mm512_loadu_ps(xg), part[i][t]);
          part_hi[i][t] = _mm512_fmadd_ps(v[1], _mm512_loadu_ps(xg + 16), part_hi[i][t]);
          part[i][t] = _mm512_fmadd_ps(v[2], _mm512_loadu_ps(xg + 32), part[i][t]);
          part_hi[i][t] = _mm512_fmadd_ps(v[3], _mm512_loadu_ps(xg + 48), part_hi[i][t]);
        }
      }
    }
    for (int i = 0; i < R; ++i) {
      for (int t = 0; t < T; ++t) part[i][t] = _mm512_add_ps(part[i][t], part_hi[i][t]);
    }
    if (j < j1) fp8_rest_columns<R, T>(row_ptr, tok, cols, j, j1, part);
    for (int i = 0; i < R; ++i) {
      const __m512 scale = _mm512_set1_ps(block_scale_or_one(w, scale_index[i], b));
      for (int t = 0; t < T; ++t) {
        acc[i][t] = _mm512_fmadd_ps(_mm512_mul_ps(part[i][t], _mm512_set1_ps(tok.unscale[t])), scale, acc[i][t]);
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int t = 0; t < T; ++t) tok.y[t * tok.ldy + rows[i] - tok.row_begin] = reduce_add16(acc[i][t]);
  }
}

// Permuted activations up to this many floats live on the stack; more go to the heap.
constexpr int64_t kStackPermuted = 32768;

// The exponent k of token t's pre-scale: the largest that keeps |x| * 2^k below 2^110 (every
// product and sum then stays far below f32's maximum, and the small ones stay normal), at most
// 112 and at least -7 (2^(120 - k) must be a float).
int token_shift(const float* x, int64_t cols) {
  __m512 max_abs = _mm512_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= cols; c += 16) max_abs = _mm512_max_ps(max_abs, _mm512_abs_ps(_mm512_loadu_ps(x + c)));
  if (c < cols) max_abs = _mm512_max_ps(max_abs, _mm512_abs_ps(_mm512_maskz_loadu_ps(tail_mask16(cols - c), x + c)));
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, max_abs);
  float m = 0.0f;
  for (const float v : lanes) m = m > v ? m : v;
  // Builtins, not <cmath>: no inline library function may be compiled with this file's ISA.
  if (!(m > 0.0f) || !__builtin_isfinite(m)) return 112;
  int e = 0;
  __builtin_frexpf(m, &e);  // m < 2^e
  return e > 110 + 7 ? -7 : (110 - e > 112 ? 112 : 110 - e);
}

// Writes x (n rows of `cols`) times 2^k[t], each full 64-column group as decode_e4m3x64's four
// vectors hold their columns (decoded_column), and the per-token factors.
void permute_tokens(const float* x, int64_t n, int64_t cols, float* x_perm, float* unscale, float* rest_scale) {
  // Vector v's elements 0..7 come from columns 0..31 (a0, a1), 8..15 from 32..63 (a2, a3, the
  // same indices less 32): two permutes over pairs of sources, then their low halves joined.
  __m512i pick[4];
  for (int v = 0; v < 4; ++v) {
    alignas(64) int32_t idx[16] = {};
    for (int e = 0; e < 8; ++e) idx[e] = decoded_column(v, e);
    pick[v] = _mm512_load_si512(idx);
  }
  for (int64_t t = 0; t < n; ++t) {
    const float* xs = x + t * cols;
    float* xp = x_perm + t * cols;
    const int k = token_shift(xs, cols);
    unscale[t] = __builtin_ldexpf(1.0f, 120 - k);
    rest_scale[t] = __builtin_ldexpf(1.0f, k - 112);
    const __m512 pre = _mm512_set1_ps(__builtin_ldexpf(1.0f, k));
    for (int64_t g0 = 0; g0 + 64 <= cols; g0 += 64) {
      const __m512 a0 = _mm512_loadu_ps(xs + g0), a1 = _mm512_loadu_ps(xs + g0 + 16);
      const __m512 a2 = _mm512_loadu_ps(xs + g0 + 32), a3 = _mm512_loadu_ps(xs + g0 + 48);
      for (int v = 0; v < 4; ++v) {
        const __m512 lanes01 = _mm512_permutex2var_ps(a0, pick[v], a1);
        const __m512 lanes23 = _mm512_permutex2var_ps(a2, pick[v], a3);
        const __m512 out = _mm512_shuffle_f32x4(lanes01, lanes23, 0x44);  // low halves of each
        _mm512_storeu_ps(xp + g0 + 16 * v, _mm512_mul_ps(out, pre));
      }
    }
  }
}

// W^T x for G 64-column groups starting at c0 (G = 1 or 2): for each row, its 64 G bytes are
// decoded as in the GEMV (value * 2^-120, in the unpacks' column order) and multiplied with
// x[r] * 2^k; sums per scale block of rows, then scaled; y gets the columns in their order.
template <int G>
void transposed_chunk(const WeightRef& w, const BlockGeometry& g, int64_t row_begin, int64_t row_end, const float* x,
                      float pre, float unscale, int64_t c0, float* y) {
  const int64_t cols = w.cols;
  // Prefetch whole rows on the first pass when the rows fit in L2 many times over.
  const bool whole_rows_ahead = c0 == 0 && cols > 64 * G && (row_end - row_begin) * cols <= (256 << 10);
  __m512 acc[4 * G];
  for (int i = 0; i < 4 * G; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t r0 = row_begin; r0 < row_end;) {
    const int64_t r1 = g.scaled ? min_i64(row_end, (r0 / g.block_rows + 1) * g.block_rows) : row_end;
    __m512 part[4 * G];
    for (int i = 0; i < 4 * G; ++i) part[i] = _mm512_setzero_ps();
    for (int64_t r = r0; r < r1; ++r) {
      const __m512 xr = _mm512_set1_ps(x[r - row_begin] * pre);
      const uint8_t* p = static_cast<const uint8_t*>(w.data) + r * cols + c0;
      // The first pass over the rows brings whole rows into L2 a few rows ahead: the later
      // passes read the other columns of the same rows, which then come from there.
      if (whole_rows_ahead) {
        const uint8_t* ahead = static_cast<const uint8_t*>(w.data) + (r + 8) * cols;
        for (int64_t b = 0; b < cols; b += 64) _mm_prefetch(reinterpret_cast<const char*>(ahead + b), _MM_HINT_T1);
      }
      for (int q = 0; q < G; ++q) {
        __m512 v[4];
        decode_e4m3x64(_mm512_loadu_si512(p + 64 * q), v);
        for (int k = 0; k < 4; ++k) part[4 * q + k] = _mm512_fmadd_ps(v[k], xr, part[4 * q + k]);
      }
    }
    const int64_t scale_row = row_scale_index(g, r0);
    for (int q = 0; q < G; ++q) {
      const __m512 scale = _mm512_set1_ps(block_scale_or_one(w, scale_row, (c0 + 64 * q) / g.block_cols));
      for (int v = 0; v < 4; ++v) {
        acc[4 * q + v] = _mm512_fmadd_ps(_mm512_mul_ps(part[4 * q + v], _mm512_set1_ps(unscale)), scale, acc[4 * q + v]);
      }
    }
    r0 = r1;
  }
  // Back to column order.
  alignas(64) float out[16];
  for (int q = 0; q < G; ++q) {
    float* yq = y + c0 + 64 * q;
    for (int v = 0; v < 4; ++v) {
      _mm512_store_ps(out, acc[4 * q + v]);
      for (int e = 0; e < 16; ++e) yq[decoded_column(v, e)] = out[e];
    }
  }
}

// Tokens in groups of 4 (then 3, 2 or 1) against each tile of rows, so the tile is read from
// memory once for all of them: 4 row streams for one token, 2 for several (register budget).
void fp8_tiles(const WeightRef& w, const BlockGeometry& g, int64_t row_begin, int64_t row_end, const Tokens& tok,
               int64_t n) {
  auto groups = [&]<int R>(const int64_t* rows) {
    for (int64_t t0 = 0; t0 < n;) {
      const Tokens sub = tok.advanced(t0, w.cols);
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
  // The permuted x and two factors per token: on the stack up to 128 KB, else on the heap
  // (plain C allocation: no std templates in ISA files, see matmul_isa.h); without memory, the
  // widening path for every column.
  alignas(64) float stack_perm[kStackPermuted];
  const int64_t floats = n * w.cols + 2 * n;
  float* heap_perm = nullptr;
  float* x_perm = stack_perm;
  if (floats > kStackPermuted) {
    heap_perm = static_cast<float*>(std::malloc(static_cast<size_t>(floats) * sizeof(float)));
    x_perm = heap_perm;
  }
  if (x_perm != nullptr) {
    float* unscale = x_perm + n * w.cols;
    float* rest_scale = unscale + n;
    permute_tokens(x, n, w.cols, x_perm, unscale, rest_scale);
    fp8_tiles(w, g, row_begin, row_end, Tokens{x, x_perm, unscale, rest_scale, y, ldy, row_begin}, n);
  } else {
    // Only the f32 path runs: its sums are value * 2^-8 (as with k = 112).
    constexpr int64_t kMaxTokens = 64;
    float unscale[kMaxTokens], rest_scale[kMaxTokens];
    for (int64_t t = 0; t < kMaxTokens; ++t) {
      unscale[t] = 256.0f;
      rest_scale[t] = 1.0f;
    }
    for (int64_t t0 = 0; t0 < n; t0 += kMaxTokens) {
      const int64_t m = n - t0 < kMaxTokens ? n - t0 : kMaxTokens;
      fp8_tiles(w, g, row_begin, row_end, Tokens{x + t0 * w.cols, nullptr, unscale, rest_scale, y + t0 * ldy, ldy, row_begin}, m);
    }
  }
  std::free(heap_perm);
}

void bf16_gemv_rows_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end,
                           const float* x, float* y) {
  for_each_stream_tile<4>(row_begin, row_end, [&]<int R>(const int64_t* rows) {
    bf16_rows_tile<R>(w, rows, x, y, row_begin);
  });
}

bool fp8_matvec_transposed_rows_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end, const float* x,
                                       float* y) {
  const BlockGeometry g = block_geometry(w);
  if (w.type != WeightType::kF8E4M3 || w.cols % 64 != 0 || (g.scaled && g.block_cols % 64 != 0) ||
      row_end <= row_begin) {
    return false;
  }
  const int k = token_shift(x, row_end - row_begin);
  const float pre = __builtin_ldexpf(1.0f, k), unscale = __builtin_ldexpf(1.0f, 120 - k);
  int64_t c0 = 0;
  for (; c0 + 128 <= w.cols; c0 += 128) transposed_chunk<2>(w, g, row_begin, row_end, x, pre, unscale, c0, y);
  if (c0 < w.cols) transposed_chunk<1>(w, g, row_begin, row_end, x, pre, unscale, c0, y);
  return true;
}

}  // namespace moestream::kernels
