// GEMM (several tokens) with AVX-512 for FP8 / BF16 / F32 weights. A panel of kPanelRows
// rows x kChunk columns is dequantized exactly to f32 (the reference's values: e4m3 * scale
// in one f32 multiply), kept in L1/L2, and multiplied by register tiles of 4 rows x 4 tokens
// (16 accumulators): each weight load serves 4 tokens, each x load 4 rows. Also W^T x.
#include "kernels/matmul_isa.h"
#include "kernels/simd_avx512.h"

namespace moestream::kernels {
namespace {

constexpr int64_t kPanelRows = 8;
constexpr int64_t kChunk = 1024;  // columns per panel (multiple of 16)

// dst[i][0 .. round_up(k1 - k0, 16)) = W[r0 + i][k0 .. k1), zero-padded, for i < rows.
void dequantize_panel(const WeightRef& w, const BlockGeometry& g, int64_t r0, int64_t rows,
                      int64_t k0, int64_t k1, float* dst, int64_t ld) {
  const int64_t cols = w.cols;
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t r = r0 + i;
    float* out = dst + i * ld;
    int64_t j = k0;
    switch (w.type) {
      case WeightType::kF8E4M3: {
        const uint8_t* src = static_cast<const uint8_t*>(w.data) + r * cols;
        while (j < k1) {
          const int64_t b = j / g.block_cols;
          const int64_t seg_end = min_i64((b + 1) * g.block_cols, k1);
          const __m512 s = _mm512_set1_ps(row_block_scale(w, g, r, b));
          const __m512 two8 = _mm512_set1_ps(256.0f);
          for (; j < seg_end; j += 16) {
            const int64_t n = min_i64(16, seg_end - j);
            const __mmask16 m = tail_mask16(n);
            const __m128i bytes = _mm_maskz_loadu_epi8(m, src + j);
            const __m512 v = _mm512_mul_ps(_mm512_mul_ps(e4m3x16_times_2m8(bytes), two8), s);
            _mm512_mask_storeu_ps(out + (j - k0), m, v);
          }
          j = seg_end;
        }
        break;
      }
      case WeightType::kBF16: {
        const uint16_t* src = static_cast<const uint16_t*>(w.data) + r * cols;
        for (; j < k1; j += 16) {
          const __mmask16 m = tail_mask16(min_i64(16, k1 - j));
          _mm512_mask_storeu_ps(out + (j - k0), m, bf16x16_to_f32(_mm256_maskz_loadu_epi16(m, src + j)));
        }
        break;
      }
      case WeightType::kF32: {
        const float* src = static_cast<const float*>(w.data) + r * cols;
        for (; j < k1; j += 16) {
          const __mmask16 m = tail_mask16(min_i64(16, k1 - j));
          _mm512_mask_storeu_ps(out + (j - k0), m, _mm512_maskz_loadu_ps(m, src + j));
        }
        break;
      }
    }
    for (int64_t p = k1 - k0; p < ld; ++p) out[p] = 0.0f;
  }
}

// y[t][i] (+)= panel[i] . x[t][k0 ..] for R rows and T tokens.
template <int R, int T>
void tile(const float* panel, int64_t ld, int64_t width, const float* x, int64_t ldx,
          float* y, int64_t ldy, bool accumulate) {
  __m512 acc[R][T];
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < T; ++t) acc[i][t] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= width; k += 16) {
    __m512 wv[R];
    for (int i = 0; i < R; ++i) wv[i] = _mm512_loadu_ps(panel + i * ld + k);
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_loadu_ps(x + t * ldx + k);
      for (int i = 0; i < R; ++i) acc[i][t] = _mm512_fmadd_ps(wv[i], xv, acc[i][t]);
    }
  }
  if (k < width) {  // the panel is zero-padded; x must not be read past its end
    const __mmask16 m = tail_mask16(width - k);
    __m512 wv[R];
    for (int i = 0; i < R; ++i) wv[i] = _mm512_loadu_ps(panel + i * ld + k);
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + t * ldx + k);
      for (int i = 0; i < R; ++i) acc[i][t] = _mm512_fmadd_ps(wv[i], xv, acc[i][t]);
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int t = 0; t < T; ++t) {
      const float v = reduce_add16(acc[i][t]);
      float& out = y[t * ldy + i];
      out = accumulate ? out + v : v;
    }
  }
}

template <int R>
void tile_tokens(const float* panel, int64_t ld, int64_t width, const float* x, int64_t ldx,
                 int64_t n, float* y, int64_t ldy, bool accumulate) {
  int64_t t = 0;
  for (; t + 4 <= n; t += 4) tile<R, 4>(panel, ld, width, x + t * ldx, ldx, y + t * ldy, ldy, accumulate);
  switch (n - t) {
    case 3: tile<R, 3>(panel, ld, width, x + t * ldx, ldx, y + t * ldy, ldy, accumulate); break;
    case 2: tile<R, 2>(panel, ld, width, x + t * ldx, ldx, y + t * ldy, ldy, accumulate); break;
    case 1: tile<R, 1>(panel, ld, width, x + t * ldx, ldx, y + t * ldy, ldy, accumulate); break;
    default: break;
  }
}

}  // namespace

void gemm_rows_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end, const float* x,
                      int64_t n, float* y, int64_t ldy) {
  alignas(64) float panel[kPanelRows * kChunk];
  const BlockGeometry g = block_geometry(w);
  const int64_t cols = w.cols;
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int64_t rows = min_i64(kPanelRows, row_end - r0);
    float* yp = y + (r0 - row_begin);
    if (cols == 0) {
      for (int64_t t = 0; t < n; ++t)
        for (int64_t i = 0; i < rows; ++i) yp[t * ldy + i] = 0.0f;
      continue;
    }
    for (int64_t k0 = 0; k0 < cols; k0 += kChunk) {
      const int64_t k1 = min_i64(k0 + kChunk, cols);
      const int64_t width = k1 - k0;
      const int64_t ld = (width + 15) / 16 * 16;
      dequantize_panel(w, g, r0, rows, k0, k1, panel, ld);
      const bool accumulate = k0 > 0;
      int64_t i = 0;
      for (; i + 4 <= rows; i += 4)
        tile_tokens<4>(panel + i * ld, ld, width, x + k0, cols, n, yp + i, ldy, accumulate);
      for (; i < rows; ++i)
        tile_tokens<1>(panel + i * ld, ld, width, x + k0, cols, n, yp + i, ldy, accumulate);
    }
  }
}

void matvec_transposed_rows_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end,
                                   const float* x, float* y) {
  // FP8 with columns and blocks in multiples of 64: decoded and summed in registers, 3.5-4x
  // this generic path on kv_b_proj's per-head slices (docs/kernels.md, run 7).
  if (fp8_matvec_transposed_rows_avx512(w, row_begin, row_end, x, y)) return;
  alignas(64) float row[kChunk];
  const BlockGeometry g = block_geometry(w);
  const int64_t cols = w.cols;
  for (int64_t c = 0; c < cols; ++c) y[c] = 0.0f;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const __m512 xr = _mm512_set1_ps(x[r - row_begin]);
    for (int64_t k0 = 0; k0 < cols; k0 += kChunk) {
      const int64_t k1 = min_i64(k0 + kChunk, cols);
      dequantize_panel(w, g, r, 1, k0, k1, row, kChunk);
      for (int64_t j = k0; j < k1; j += 16) {
        const __mmask16 m = tail_mask16(min_i64(16, k1 - j));
        const __m512 acc = _mm512_maskz_loadu_ps(m, y + j);
        _mm512_mask_storeu_ps(y + j, m, _mm512_fmadd_ps(_mm512_loadu_ps(row + (j - k0)), xr, acc));
      }
    }
  }
}

}  // namespace moestream::kernels
