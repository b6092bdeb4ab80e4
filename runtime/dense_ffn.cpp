#include "runtime/dense_ffn.h"

#include <cmath>
#include <vector>

#include "kernels/fused_expert.h"
#include "kernels/matmul.h"
#include "runtime/linear.h"

namespace moestream {

Result<SwigluWeights> swiglu_from_views(const TensorView& gate, const TensorView& up,
                                        const TensorView& down, int64_t hidden, int64_t width) {
  SwigluWeights w;
  MOESTREAM_ASSIGN_OR_RETURN(w.gate, weight_ref_from_view(gate, width, hidden));
  MOESTREAM_ASSIGN_OR_RETURN(w.up, weight_ref_from_view(up, w.gate.rows, hidden));
  MOESTREAM_ASSIGN_OR_RETURN(w.down, weight_ref_from_view(down, hidden, w.gate.rows));
  return w;
}

Result<SwigluWeights> load_swiglu(const WeightSource& source, const std::string& prefix,
                                  int64_t hidden, int64_t width) {
  MOESTREAM_ASSIGN_OR_RETURN(TensorView gate, source.tensor(prefix + "gate_proj.weight"));
  MOESTREAM_ASSIGN_OR_RETURN(TensorView up, source.tensor(prefix + "up_proj.weight"));
  MOESTREAM_ASSIGN_OR_RETURN(TensorView down, source.tensor(prefix + "down_proj.weight"));
  return swiglu_from_views(gate, up, down, hidden, width);
}

void swiglu_ffn(const SwigluWeights& w, const float* x, int64_t n, float* out) {
  // Gate and up in one threaded pass with silu(gate) * up, then down (kernels/fused_expert.h).
  kernels::swiglu_expert(w.gate, w.up, w.down, x, n, out);
}

void swiglu_ffn(const SwigluWeights& w, const float* x, int64_t n, float* out, ScratchArena& arena) {
  ScratchArena::Scope scope(arena);
  float* scratch = arena.take<float>(static_cast<size_t>(kernels::swiglu_expert_scratch(w.gate, n)));
  kernels::swiglu_expert(w.gate, w.up, w.down, x, n, out, scratch);
}

}  // namespace moestream
