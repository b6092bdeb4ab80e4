// The SwiGLU expert as one kernel: out = down( silu(gate x) * (up x) ). Gate and up run in
// one threaded pass over the intermediate rows (each thread computes its rows of both and
// applies silu(g) * u while they are in cache), then down is a threaded product; two
// thread-pool rounds instead of three, and no separate activation pass.
#pragma once

#include <cstdint>

#include "kernels/matmul.h"

namespace moestream::kernels {

// gate, up: [width, hidden]; down: [hidden, width]. x: [n, hidden] -> out: [n, hidden].
// Uses `kernels` (default: the active set). `scratch` (optional) holds
// swiglu_expert_scratch(gate, n) floats for the intermediate rows; without it they are
// allocated per call.
void swiglu_expert(const WeightRef& gate, const WeightRef& up, const WeightRef& down,
                   const float* x, int64_t n, float* out, float* scratch = nullptr);
void swiglu_expert(const MatmulKernels& kernels, const WeightRef& gate, const WeightRef& up,
                   const WeightRef& down, const float* x, int64_t n, float* out,
                   float* scratch = nullptr);
inline int64_t swiglu_expert_scratch(const WeightRef& gate, int64_t n) { return 2 * n * gate.rows; }

}  // namespace moestream::kernels
