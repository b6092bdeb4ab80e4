// Helpers shared by the *_avx512.cpp files only. Everything here has internal linkage
// (anonymous namespace), so each AVX-512 file gets its own copy and no other file can link
// to one (see matmul_isa.h).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/weight_ref.h"

namespace moestream::kernels {
namespace {

inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

// The multiplier of scale entry `index` (row-major [scale_rows][scale_cols]).
inline float block_scale_at(const WeightRef& w, int64_t index) {
  if (w.scale_type == BlockScaleType::kF32) return static_cast<const float*>(w.scales)[index];
  if (w.scale_type == BlockScaleType::kUE8M0) {
    const uint8_t e = static_cast<const uint8_t*>(w.scales)[index];
    // 2^(e-127); e = 0 is the subnormal 2^-127, e = 255 is NaN.
    const uint32_t bits = e == 0 ? 0x00400000u : e == 0xff ? 0x7fc00000u : uint32_t{e} << 23;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  return 1.0f;
}

// Block geometry of a weight, with unscaled weights treated as one block per row.
struct BlockGeometry {
  bool scaled;
  int64_t block_rows;
  int64_t block_cols;
  int64_t scale_cols;
};

inline BlockGeometry block_geometry(const WeightRef& w) {
  BlockGeometry g;
  g.scaled = w.type == WeightType::kF8E4M3 && w.scale_type != BlockScaleType::kNone &&
             w.block_rows > 0 && w.block_cols > 0;
  g.block_rows = g.scaled ? w.block_rows : (w.rows > 0 ? w.rows : 1);
  g.block_cols = g.scaled ? w.block_cols : (w.cols > 0 ? w.cols : 1);
  g.scale_cols = g.scaled ? (w.cols + w.block_cols - 1) / w.block_cols : 1;
  return g;
}

// The scale of (row, block column), 1 for an unscaled weight, in two steps for loops over a
// row's blocks: the row's first scale entry once (a division; -1 when unscaled), then one entry
// per block.
inline int64_t row_scale_index(const BlockGeometry& g, int64_t row) {
  return g.scaled ? (row / g.block_rows) * g.scale_cols : -1;
}
inline float block_scale_or_one(const WeightRef& w, int64_t row_index, int64_t block_col) {
  return row_index < 0 ? 1.0f : block_scale_at(w, row_index + block_col);
}
// Both steps at once.
inline float row_block_scale(const WeightRef& w, const BlockGeometry& g, int64_t row, int64_t block_col) {
  return block_scale_or_one(w, row_scale_index(g, row), block_col);
}

// 16 E4M3 bytes -> 16 floats equal to value * 2^-8, exactly: E4M3 is a subset of f16 once
// the exponent bias differs by 8, so sign-extend, shift the magnitude into place and clear
// the bit the sign smeared into (0x7f/0xff, NaN in E4M3, decode as 480; the converter never
// writes them).
inline __m512 e4m3x16_times_2m8(__m128i bytes) {
  __m256i h = _mm256_cvtepi8_epi16(bytes);
  h = _mm256_and_si256(_mm256_slli_epi16(h, 7), _mm256_set1_epi16(static_cast<int16_t>(0xbf80)));
  return _mm512_cvtph_ps(h);
}

// 16 BF16 values -> 16 floats (exact).
inline __m512 bf16x16_to_f32(__m256i halves) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(halves), 16));
}

// Horizontal sum (not _mm512_reduce_add_ps: GCC 12 warns inside it, dependencies.md §6).
inline float reduce_add16(__m512 v) {
  const __m256 lo = _mm512_castps512_ps256(v);
  const __m256 hi = _mm512_castps512_ps256(_mm512_shuffle_f32x4(v, v, 0x4e));  // upper half
  const __m256 s8 = _mm256_add_ps(lo, hi);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline __mmask16 tail_mask16(int64_t count) {
  return static_cast<__mmask16>((1u << count) - 1u);
}

}  // namespace
}  // namespace moestream::kernels
