// Every fast kernel set (AVX2 everywhere it runs, AVX-512 where the CPU has it) against the
// scalar reference on random weights: FP8 with f32 and UE8M0 block scales, partial edge
// blocks, odd block shapes, extreme (finite) scales, BF16 and F32; GEMV, GEMM with token
// counts around the register tiles, W^T x, and the same results for any thread count.
#include "kernels/matmul_dispatch.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/dequantize.h"
#include "kernels/kernel_threads.h"
#include "platform/cpu_features.h"
#include "platform/float_formats.h"

using namespace moestream;
using namespace moestream::kernels;

namespace {

struct RandomWeight {
  std::vector<uint8_t> bytes;  // FP8 or the raw BF16 / F32 storage
  std::vector<float> scales_f32;
  std::vector<uint8_t> scales_ue8m0;
  WeightRef ref;
};

// scale_of(i) gives the i-th block scale (f32) or UE8M0 byte.
RandomWeight make_weight(WeightType type, BlockScaleType scale_type, int64_t rows, int64_t cols,
                         int64_t block_rows, int64_t block_cols, uint32_t seed,
                         const std::function<float(std::mt19937&)>& scale_of = nullptr) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  RandomWeight t;
  t.ref = WeightRef{type, nullptr, rows, cols, scale_type, nullptr, block_rows, block_cols};
  if (type == WeightType::kF8E4M3) {
    t.bytes.resize(static_cast<size_t>(rows * cols));
    for (auto& v : t.bytes) v = f32_to_e4m3(normal(rng) * 100.0f);
    const int64_t blocks = t.ref.scale_rows() * t.ref.scale_cols();
    for (int64_t i = 0; i < blocks; ++i) {
      if (scale_type == BlockScaleType::kF32) {
        t.scales_f32.push_back(scale_of ? scale_of(rng) : 0.001f + 0.01f * std::abs(normal(rng)));
      } else if (scale_type == BlockScaleType::kUE8M0) {
        t.scales_ue8m0.push_back(static_cast<uint8_t>(scale_of ? scale_of(rng) : 118 + rng() % 8));
      }
    }
    t.ref.scales = scale_type == BlockScaleType::kF32 ? static_cast<const void*>(t.scales_f32.data())
                                                      : static_cast<const void*>(t.scales_ue8m0.data());
    if (scale_type == BlockScaleType::kNone) t.ref.scales = nullptr;
  } else if (type == WeightType::kBF16) {
    t.bytes.resize(static_cast<size_t>(rows * cols * 2));
    auto* p = reinterpret_cast<uint16_t*>(t.bytes.data());
    for (int64_t i = 0; i < rows * cols; ++i) p[i] = f32_to_bf16(normal(rng));
  } else {
    t.bytes.resize(static_cast<size_t>(rows * cols * 4));
    auto* p = reinterpret_cast<float*>(t.bytes.data());
    for (int64_t i = 0; i < rows * cols; ++i) p[i] = normal(rng);
  }
  t.ref.data = t.bytes.data();
  return t;
}

std::vector<float> random_vector(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = normal(rng);
  return v;
}

// |got - want| within float32 rounding of a sum of this magnitude.
void check_close(const std::vector<float>& got, const std::vector<float>& want,
                 const std::vector<float>& magnitude, const std::string& what) {
  REQUIRE(got.size() == want.size());
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = 2e-5 * magnitude[i] + 1e-37;
    if (!std::isfinite(got[i]) || std::abs(static_cast<double>(got[i]) - want[i]) > tol) {
      if (bad++ < 3) {
        std::printf("%s: [%zu] got %.9g want %.9g (tol %.3g)\n", what.c_str(), i, got[i], want[i], tol);
      }
    }
  }
  CHECK_MESSAGE(bad == 0, what);
}

// sum_c |W[r][c] x[t][c]| per output y[t][r] (the scale of its rounding error).
std::vector<float> magnitudes(const WeightRef& w, const float* x, int64_t n) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  std::vector<float> out(static_cast<size_t>(n * w.rows));
  for (int64_t r = 0; r < w.rows; ++r) {
    dequantize_row(w, r, row.data());
    for (int64_t t = 0; t < n; ++t) {
      double sum = 0;
      for (int64_t c = 0; c < w.cols; ++c) sum += std::abs(static_cast<double>(row[c]) * x[t * w.cols + c]);
      out[t * w.rows + r] = static_cast<float>(sum);
    }
  }
  return out;
}

std::vector<const MatmulKernels*> fast_sets() {
  std::vector<const MatmulKernels*> sets;
  for (const char* name : {"avx2", "avx512"}) {
    const MatmulKernels* k = matmul_kernels_named(name);
    if (k == nullptr) {
      const std::string why = std::string("skipping the ") + name + " kernels: this CPU lacks them (" +
                              cpu_features().summary() + ")";
      MESSAGE(why);
      continue;
    }
    sets.push_back(k);
  }
  return sets;
}

}  // namespace

namespace {

// GEMV (full and a row range starting and ending inside blocks), several token counts
// (GEMV tiles and panel GEMM), matmul_rows, and W^T x: each fast set against the reference.
void check_against_reference(const WeightRef& w, const std::string& label) {
  const MatmulKernels& ref = reference_matmul_kernels();
  const int64_t rows = w.rows, cols = w.cols;
  for (const MatmulKernels* k : fast_sets()) {
    const std::string what = label + " [" + k->name + "]";
    const auto x = random_vector(cols, 7);
    const auto mag1 = magnitudes(w, x.data(), 1);
    std::vector<float> want(rows), got(rows);
    ref.matvec_rows(w, 0, rows, x.data(), want.data());
    k->matvec_rows(w, 0, rows, x.data(), got.data());
    check_close(got, want, mag1, what + " matvec");

    const int64_t rb = rows / 3, re = rows - 1;
    if (re > rb) {
      std::vector<float> part(re - rb);
      k->matvec_rows(w, rb, re, x.data(), part.data());
      for (int64_t r = rb; r < re; ++r) CHECK_MESSAGE(part[r - rb] == got[r], (what + " row range"));

      const auto xr = random_vector(re - rb, 9);
      std::vector<float> want_t(cols), got_t(cols), mag_t(cols, 0.0f);
      ref.matvec_transposed_rows(w, rb, re, xr.data(), want_t.data());
      k->matvec_transposed_rows(w, rb, re, xr.data(), got_t.data());
      std::vector<float> row(static_cast<size_t>(cols));
      for (int64_t r = rb; r < re; ++r) {
        dequantize_row(w, r, row.data());
        for (int64_t c = 0; c < cols; ++c) mag_t[c] += std::abs(row[c] * xr[r - rb]);
      }
      check_close(got_t, want_t, mag_t, what + " transposed");
    }

    // FP8 up to 8 (AVX-512) or 16 (AVX2) tokens goes through the GEMV tiles, more through
    // the panel GEMM: both paths, and every token-group remainder (4 + 1, 4 + 3, ...).
    for (int64_t n : {2, 3, 5, 7, 8, 9, 17}) {
      const auto xm = random_vector(n * cols, 11 + static_cast<uint32_t>(n));
      const auto mag = magnitudes(w, xm.data(), n);
      std::vector<float> want_m(n * rows), got_m(n * rows);
      ref.matmul(w, xm.data(), n, want_m.data());
      k->matmul(w, xm.data(), n, got_m.data());
      check_close(got_m, want_m, mag, what + " matmul n=" + std::to_string(n));
      // matmul_rows on a sub-range writes only its rows, with the row stride given.
      std::vector<float> sub(n * rows, -1.0f);
      k->matmul_rows(w, rb, re, xm.data(), n, sub.data() + rb, rows);
      for (int64_t t = 0; t < n; ++t) {
        for (int64_t r = 0; r < rows; ++r) {
          const float v = sub[t * rows + r];
          if (r >= rb && r < re) {
            CHECK(v == got_m[t * rows + r]);
          } else {
            CHECK(v == -1.0f);
          }
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("fast kernels: FP8 with f32 block scales, partial edge blocks") {
  check_against_reference(make_weight(WeightType::kF8E4M3, BlockScaleType::kF32, 300, 400, 128, 128, 1).ref, "fp8 f32 300x400");
  check_against_reference(make_weight(WeightType::kF8E4M3, BlockScaleType::kF32, 96, 96, 128, 128, 2).ref, "fp8 f32 96x96");
  check_against_reference(make_weight(WeightType::kF8E4M3, BlockScaleType::kF32, 37, 29, 8, 16, 3).ref, "fp8 f32 37x29 b8x16");
  check_against_reference(make_weight(WeightType::kF8E4M3, BlockScaleType::kF32, 21, 1100, 5, 7, 4).ref, "fp8 f32 21x1100 b5x7");
  check_against_reference(make_weight(WeightType::kF8E4M3, BlockScaleType::kF32, 9, 2200, 128, 128, 5).ref, "fp8 f32 9x2200");
  // Columns and blocks multiples of 64: the AVX-512 W^T x decodes in registers (a row range
  // across row blocks, a last group of 64 columns).
  check_against_reference(make_weight(WeightType::kF8E4M3, BlockScaleType::kF32, 300, 576, 128, 128, 17).ref, "fp8 f32 300x576");
  check_against_reference(make_weight(WeightType::kF8E4M3, BlockScaleType::kF32, 200, 512, 64, 64, 18).ref, "fp8 f32 200x512 b64x64");
}

TEST_CASE("fast kernels: FP8 with UE8M0 scales and without scales") {
  check_against_reference(make_weight(WeightType::kF8E4M3, BlockScaleType::kUE8M0, 192, 130, 128, 128, 6).ref, "fp8 ue8m0 192x130");
  check_against_reference(make_weight(WeightType::kF8E4M3, BlockScaleType::kUE8M0, 23, 41, 4, 8, 7).ref, "fp8 ue8m0 23x41 b4x8");
  check_against_reference(make_weight(WeightType::kF8E4M3, BlockScaleType::kNone, 33, 150, 0, 0, 8).ref, "fp8 unscaled 33x150");
}

TEST_CASE("fast kernels: FP8 with extreme but finite scales stay finite and close") {
  const float f32_scales[] = {1.2e-38f, 1e-30f, 3e-20f, 1.0f, 7.5e20f, 1e30f};
  auto f32_extreme = [&](std::mt19937& rng) { return f32_scales[rng() % 6]; };
  check_against_reference(make_weight(WeightType::kF8E4M3, BlockScaleType::kF32, 130, 300, 16, 32, 9, f32_extreme).ref, "fp8 f32 extreme");
  const float ue8m0_bytes[] = {1, 2, 20, 127, 200, 220};
  auto ue8m0_extreme = [&](std::mt19937& rng) { return ue8m0_bytes[rng() % 6]; };
  check_against_reference(make_weight(WeightType::kF8E4M3, BlockScaleType::kUE8M0, 130, 300, 16, 32, 10, ue8m0_extreme).ref, "fp8 ue8m0 extreme");
}

TEST_CASE("fast kernels: every E4M3 byte, subnormals included, against activations from 1e-30 to 1e30") {
  // The AVX-512 GEMV decodes bytes to f32 bit patterns scaled by 2^-120 and pre-scales x by a
  // power of two chosen from max|x|: each row holds all 254 non-NaN bytes (the 14 subnormals
  // too) at shifted positions, over 3 blocks with a partial one, so every path sees them all.
  RandomWeight t;
  const int64_t rows = 24, cols = 300;
  t.ref = WeightRef{WeightType::kF8E4M3, nullptr, rows, cols, BlockScaleType::kF32, nullptr, 8, 128};
  std::vector<uint8_t> values;
  for (int b = 0; b < 256; ++b) {
    if ((b & 0x7f) != 0x7f) values.push_back(static_cast<uint8_t>(b));
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) t.bytes.push_back(values[static_cast<size_t>((c + 37 * r) % 254)]);
  }
  t.scales_f32 = {0.5f, 2.0f, 1e-3f, 3.0f, 0.25f, 1.0f, 7.0f, 0.125f, 4.0f};
  t.ref.data = t.bytes.data();
  t.ref.scales = t.scales_f32.data();
  const MatmulKernels& ref = reference_matmul_kernels();
  for (const double factor : {1e-30, 1e-6, 1.0, 1e6, 1e30}) {
    for (const int64_t n : {int64_t{1}, int64_t{3}}) {
      auto x = random_vector(n * cols, 40 + static_cast<uint32_t>(n));
      for (auto& v : x) v = static_cast<float>(v * factor);
      const auto mag = magnitudes(t.ref, x.data(), n);
      std::vector<float> want(static_cast<size_t>(n * rows)), got(want.size());
      ref.matmul(t.ref, x.data(), n, want.data());
      for (const MatmulKernels* k : fast_sets()) {
        k->matmul(t.ref, x.data(), n, got.data());
        check_close(got, want, mag, std::string("all bytes x ") + std::to_string(factor) + " n=" + std::to_string(n) + " [" + k->name + "]");
      }
    }
  }
}

TEST_CASE("fast kernels: BF16 and F32 weights") {
  check_against_reference(make_weight(WeightType::kBF16, BlockScaleType::kNone, 65, 130, 0, 0, 11).ref, "bf16 65x130");
  check_against_reference(make_weight(WeightType::kBF16, BlockScaleType::kNone, 40, 1031, 0, 0, 12).ref, "bf16 40x1031");
  check_against_reference(make_weight(WeightType::kF32, BlockScaleType::kNone, 17, 33, 0, 0, 13).ref, "f32 17x33");
  check_against_reference(make_weight(WeightType::kF32, BlockScaleType::kNone, 19, 1500, 0, 0, 14).ref, "f32 19x1500");
}

TEST_CASE("fast kernels: results do not depend on the thread count") {
  const RandomWeight t = make_weight(WeightType::kF8E4M3, BlockScaleType::kF32, 1000, 1024, 128, 128, 15);
  const auto x = random_vector(4 * 1024, 16);
  for (const MatmulKernels* k : fast_sets()) {
    std::vector<float> one(4000), two(4000), one_v(1000), two_v(1000);
    set_kernel_threads(1);
    k->matmul(t.ref, x.data(), 4, one.data());
    k->matvec_rows(t.ref, 0, 1000, x.data(), one_v.data());
    set_kernel_threads(2);
    k->matmul(t.ref, x.data(), 4, two.data());
    k->matvec_rows(t.ref, 0, 1000, x.data(), two_v.data());
    set_kernel_threads(0);
    CHECK(one == two);
    CHECK(one_v == two_v);
  }
}

TEST_CASE("dispatch: the best set follows the CPU features") {
  const MatmulKernels& best = best_matmul_kernels();
  const CpuFeatures& cpu = cpu_features();
  const std::string expected = cpu.has_avx512_kernels() ? "avx512" : cpu.has_avx2_kernels() ? "avx2" : "reference";
  CHECK(std::string(best.name) == expected);
  CHECK(matmul_kernels_named("reference") == &reference_matmul_kernels());
  CHECK(matmul_kernels_named("nonsense") == nullptr);
  CHECK(available_matmul_kernels().front() == "reference");
}

TEST_CASE("fast kernels: BF16 with a few tokens gives each token exactly its one-token result") {
  // The output head of a batched or speculative decode step: the same logits whatever the batch.
  const RandomWeight t = make_weight(WeightType::kBF16, BlockScaleType::kNone, 77, 1037, 0, 0, 21);
  for (const MatmulKernels* k : fast_sets()) {
    for (int64_t n : {2, 3, 4, 5, 8}) {
      CAPTURE(k->name);
      CAPTURE(n);
      const auto x = random_vector(n * 1037, 22 + static_cast<uint32_t>(n));
      std::vector<float> together(static_cast<size_t>(n * 77)), alone(77);
      k->matmul(t.ref, x.data(), n, together.data());
      for (int64_t i = 0; i < n; ++i) {
        k->matvec_rows(t.ref, 0, 77, x.data() + i * 1037, alone.data());
        if (std::string(k->name) == "avx512") {
          CHECK(std::equal(alone.begin(), alone.end(), together.begin() + i * 77));
        }
      }
    }
  }
}
