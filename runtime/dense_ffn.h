// SwiGLU feed-forward: down( silu(gate x) * (up x) ). Used by the dense layers, the shared
// experts and every routed expert; the width comes from the weight shapes.
#pragma once

#include <cstdint>
#include <string>

#include "format/tensor_view.h"
#include "kernels/weight_ref.h"
#include "platform/scratch_arena.h"
#include "platform/status.h"
#include "runtime/weight_source.h"

namespace moestream {

struct SwigluWeights {
  kernels::WeightRef gate;  // [width, hidden]
  kernels::WeightRef up;    // [width, hidden]
  kernels::WeightRef down;  // [hidden, width]

  int64_t width() const { return gate.rows; }
};

// Loads "<prefix>gate_proj.weight" etc.; width < 0 accepts any width.
Result<SwigluWeights> load_swiglu(const WeightSource& source, const std::string& prefix,
                                  int64_t hidden, int64_t width);
// Checks three tensor views (e.g. an expert blob's) against hidden / width.
Result<SwigluWeights> swiglu_from_views(const TensorView& gate, const TensorView& up,
                                        const TensorView& down, int64_t hidden, int64_t width);

// x: [n, hidden] -> out: [n, hidden]; the intermediate rows come from `arena` when given.
void swiglu_ffn(const SwigluWeights& w, const float* x, int64_t n, float* out);
void swiglu_ffn(const SwigluWeights& w, const float* x, int64_t n, float* out, ScratchArena& arena);

}  // namespace moestream
