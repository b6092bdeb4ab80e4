#include "kernels/matmul_dispatch.h"

#include <atomic>

#include "kernels/kernel_threads.h"
#include "kernels/matmul_isa.h"
#include "platform/cpu_features.h"

namespace moestream::kernels {
namespace {

// The serial row kernels of one ISA.
struct IsaKernels {
  void (*fp8_gemv)(const WeightRef&, int64_t, int64_t, const float*, int64_t, float*, int64_t);
  void (*bf16_gemv)(const WeightRef&, int64_t, int64_t, const float*, float*);
  void (*gemm)(const WeightRef&, int64_t, int64_t, const float*, int64_t, float*, int64_t);
  void (*transposed)(const WeightRef&, int64_t, int64_t, const float*, float*);
  // FP8 products with up to this many tokens go through the GEMV tiles (each tile read once
  // for all tokens), more through the panel GEMM: the measured crossover (docs/kernels.md,
  // run 6: AVX-512 GEMV tiles 2.5x faster at 2 tokens, 11% at 8, GEMM 9% faster at 12;
  // AVX2 6x / 2.2x / even at 24).
  int64_t fp8_gemv_max_tokens;
  // BF16 products with 2..bf16_gemv_max_tokens tokens go through this (null: the GEMM). The
  // output head of a batched or speculative decode step is one: the panel GEMM took 1.6x the
  // time of a one-token GEMV there for 2 tokens (small preset, AVX-512).
  void (*bf16_gemv_tokens)(const WeightRef&, int64_t, int64_t, const float*, int64_t, float*, int64_t);
  int64_t bf16_gemv_max_tokens;
};

constexpr IsaKernels kAvx2Isa{fp8_gemv_rows_avx2, bf16_gemv_rows_avx2, gemm_rows_avx2,
                              matvec_transposed_rows_avx2, 16, nullptr, 1};
constexpr IsaKernels kAvx512Isa{fp8_gemv_rows_avx512, bf16_gemv_rows_avx512, gemm_rows_avx512,
                                matvec_transposed_rows_avx512, 8, bf16_gemv_tokens_avx512, 8};

int64_t weight_bytes_per_row(const WeightRef& w) {
  switch (w.type) {
    case WeightType::kF8E4M3: return w.cols;
    case WeightType::kBF16: return 2 * w.cols;
    case WeightType::kF32: return 4 * w.cols;
  }
  return w.cols;
}

// Serial: rows [row_begin, row_end) for n tokens, small n through the GEMV tiles.
template <const IsaKernels& K>
void matmul_rows(const WeightRef& w, int64_t row_begin, int64_t row_end, const float* x, int64_t n,
                 float* y, int64_t ldy) {
  if (w.type == WeightType::kF8E4M3 && n <= K.fp8_gemv_max_tokens) return K.fp8_gemv(w, row_begin, row_end, x, n, y, ldy);
  if (n == 1 && w.type == WeightType::kBF16) return K.bf16_gemv(w, row_begin, row_end, x, y);
  if (w.type == WeightType::kBF16 && K.bf16_gemv_tokens != nullptr && n <= K.bf16_gemv_max_tokens) {
    return K.bf16_gemv_tokens(w, row_begin, row_end, x, n, y, ldy);
  }
  K.gemm(w, row_begin, row_end, x, n, y, ldy);
}

// Rows split over the kernel pool in multiples of 8 (the GEMM panel height).
template <const IsaKernels& K>
void threaded_matmul_rows(const WeightRef& w, int64_t row_begin, int64_t row_end, const float* x,
                          int64_t n, float* y, int64_t ldy) {
  const int64_t rows = row_end - row_begin;
  const int64_t work = rows * weight_bytes_per_row(w) * (n < 1 ? 1 : n);
  parallel_rows(rows, 8, work, [&](int64_t b, int64_t e) {
    matmul_rows<K>(w, row_begin + b, row_begin + e, x, n, y + b, ldy);
  });
}

template <const IsaKernels& K>
void matvec_rows(const WeightRef& w, int64_t row_begin, int64_t row_end, const float* x, float* y) {
  threaded_matmul_rows<K>(w, row_begin, row_end, x, 1, y, row_end - row_begin);
}

template <const IsaKernels& K>
void matvec_transposed_rows(const WeightRef& w, int64_t row_begin, int64_t row_end, const float* x,
                            float* y) {
  K.transposed(w, row_begin, row_end, x, y);
}

template <const IsaKernels& K>
void matmul(const WeightRef& w, const float* x, int64_t n, float* y) {
  if (n <= 0) return;
  threaded_matmul_rows<K>(w, 0, w.rows, x, n, y, w.rows);
}

constexpr MatmulKernels kAvx2{"avx2", matvec_rows<kAvx2Isa>, matvec_transposed_rows<kAvx2Isa>,
                              matmul<kAvx2Isa>, matmul_rows<kAvx2Isa>};
constexpr MatmulKernels kAvx512{"avx512", matvec_rows<kAvx512Isa>,
                                matvec_transposed_rows<kAvx512Isa>, matmul<kAvx512Isa>,
                                matmul_rows<kAvx512Isa>};

std::atomic<const MatmulKernels*> g_active{nullptr};

}  // namespace

const MatmulKernels& best_matmul_kernels() {
  const CpuFeatures& cpu = cpu_features();
  if (cpu.has_avx512_kernels()) return kAvx512;
  if (cpu.has_avx2_kernels()) return kAvx2;
  return reference_matmul_kernels();
}

const MatmulKernels* matmul_kernels_named(const std::string& name) {
  const CpuFeatures& cpu = cpu_features();
  if (name == "reference") return &reference_matmul_kernels();
  if (name == "avx2" && cpu.has_avx2_kernels()) return &kAvx2;
  if (name == "avx512" && cpu.has_avx512_kernels()) return &kAvx512;
  return nullptr;
}

std::vector<std::string> available_matmul_kernels() {
  std::vector<std::string> names{"reference"};
  if (cpu_features().has_avx2_kernels()) names.push_back("avx2");
  if (cpu_features().has_avx512_kernels()) names.push_back("avx512");
  return names;
}

const MatmulKernels& active_matmul_kernels() {
  const MatmulKernels* k = g_active.load(std::memory_order_acquire);
  return k != nullptr ? *k : best_matmul_kernels();
}

void set_active_matmul_kernels(const MatmulKernels& kernels) {
  g_active.store(&kernels, std::memory_order_release);
}

}  // namespace moestream::kernels
