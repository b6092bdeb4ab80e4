// Rotary position embedding of MLA's rope slices, with YaRN frequency scaling and the
// attention softmax scale that goes with it (docs/model-math.md §7).
//  - Convention: the official interleaved pairs (x[2i], x[2i+1]) rotated by p * freq_i
//    (GPT-J / "NORM" style), not NeoX halves.
//  - YaRN (rope_scaling.type == "yarn") is applied at every sequence length: blended
//    frequencies between the correction dims of beta_fast / beta_slow (computed from
//    original_max_position_embeddings), and softmax_scale = qk_head_dim^-0.5 * mscale^2 with
//    mscale = 0.1 * mscale_all_dim * ln(factor) + 1. cos/sin are multiplied only by
//    yarn_mscale(mscale) / yarn_mscale(mscale_all_dim) (1 for DeepSeek-V3).
#pragma once

#include <cstdint>
#include <vector>

#include "format/model_config.h"
#include "platform/status.h"

namespace moestream {

class RotaryEmbedding {
 public:
  static Result<RotaryEmbedding> from_config(const ModelConfig& config);

  int64_t dim() const { return dim_; }
  // Frequency of pair i (dim/2 of them), after YaRN blending.
  const std::vector<float>& frequencies() const { return frequencies_; }
  float softmax_scale() const { return softmax_scale_; }
  float cos_sin_factor() const { return cos_sin_factor_; }

  // Rotates the dim() values at x in place for `position`.
  void apply(float* x, int64_t position) const;

 private:
  int64_t dim_ = 0;
  std::vector<float> frequencies_;
  float softmax_scale_ = 1.0f;
  float cos_sin_factor_ = 1.0f;
};

// 0.1 * mscale * ln(factor) + 1 for factor > 1, else 1 (HF yarn_get_mscale).
double yarn_mscale(double factor, double mscale);

}  // namespace moestream
