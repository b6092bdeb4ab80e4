#include "kernels/fused_expert.h"

#include <cmath>
#include <vector>

#include "kernels/kernel_threads.h"

namespace moestream::kernels {

void swiglu_expert(const WeightRef& gate, const WeightRef& up, const WeightRef& down,
                   const float* x, int64_t n, float* out, float* scratch) {
  swiglu_expert(active_matmul_kernels(), gate, up, down, x, n, out, scratch);
}

void swiglu_expert(const MatmulKernels& kernels, const WeightRef& gate, const WeightRef& up,
                   const WeightRef& down, const float* x, int64_t n, float* out,
                   float* scratch) {
  if (n <= 0) return;
  const int64_t width = gate.rows;
  std::vector<float> owned;
  if (scratch == nullptr) {
    owned.resize(static_cast<size_t>(swiglu_expert_scratch(gate, n)));
    scratch = owned.data();
  }
  float* hidden = scratch;
  float* up_out = scratch + n * width;
  const int64_t work = 2 * width * gate.cols * n;
  parallel_rows(width, 8, work, [&](int64_t b, int64_t e) {
    kernels.matmul_rows(gate, b, e, x, n, hidden + b, width);
    kernels.matmul_rows(up, b, e, x, n, up_out + b, width);
    for (int64_t t = 0; t < n; ++t) {
      float* h = hidden + t * width;
      const float* u = up_out + t * width;
      for (int64_t r = b; r < e; ++r) h[r] = h[r] / (1.0f + std::exp(-h[r])) * u[r];
    }
  });
  kernels.matmul(down, hidden, n, out);
}

}  // namespace moestream::kernels
