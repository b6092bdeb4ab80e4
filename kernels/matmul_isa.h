// Serial row-range kernels of one instruction set, compiled in their own files
// (*_avx2.cpp / *_avx512.cpp get the ISA flags). matmul_dispatch.cpp threads them and picks
// the set the CPU supports. These files keep everything else internal (anonymous
// namespaces, no std templates) so no ISA-specific copy of a shared inline function can be
// chosen by the linker for code that runs on a CPU without that ISA.
#pragma once

#include <cstdint>

#include "kernels/weight_ref.h"

namespace moestream::kernels {

// y[t * ldy + r - row_begin] = W[r] . x[t] for t < n (x is [n, cols]) and an FP8 E4M3 weight
// (f32, UE8M0 or no block scales, any block shape): GEMV tiles that decode each piece of
// weight once for up to 4 tokens. Dequantization is exact; the scale multiplies each
// block's partial sum.
void fp8_gemv_rows_avx2(const WeightRef& w, int64_t row_begin, int64_t row_end, const float* x,
                        int64_t n, float* y, int64_t ldy);
void fp8_gemv_rows_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end,
                          const float* x, int64_t n, float* y, int64_t ldy);

// y[r - row_begin] = W[r] . x for a BF16 weight (exact widening, f32 accumulation).
void bf16_gemv_rows_avx2(const WeightRef& w, int64_t row_begin, int64_t row_end,
                         const float* x, float* y);
void bf16_gemv_rows_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end,
                           const float* x, float* y);
// The same for n tokens (x is [n, cols], y[t * ldy + r - row_begin]), each row read once for
// all of them; per (row, token) bit-identical to bf16_gemv_rows_avx512.
void bf16_gemv_tokens_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end, const float* x, int64_t n,
                             float* y, int64_t ldy);

// y[t * ldy + r - row_begin] = W[r] . x[t]  (x is [n, cols]) for any weight type: a panel of
// rows is dequantized exactly to f32 (the reference's values) and multiplied by register tiles
// of rows x tokens.
void gemm_rows_avx2(const WeightRef& w, int64_t row_begin, int64_t row_end, const float* x,
                    int64_t n, float* y, int64_t ldy);
void gemm_rows_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end, const float* x,
                      int64_t n, float* y, int64_t ldy);

// y[c] = sum_r W[r][c] x[r - row_begin] for any weight type.
void matvec_transposed_rows_avx2(const WeightRef& w, int64_t row_begin, int64_t row_end,
                                 const float* x, float* y);
void matvec_transposed_rows_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end,
                                   const float* x, float* y);
// Its FP8 path (fp8_gemv_avx512.cpp): rows decoded as in the GEMV, the sums in registers per
// 128 columns; false (nothing written) unless cols and block columns are multiples of 64.
bool fp8_matvec_transposed_rows_avx512(const WeightRef& w, int64_t row_begin, int64_t row_end, const float* x,
                                       float* y);

}  // namespace moestream::kernels
