// The tensor set of a DeepSeek-V3 model as a function of its config: names (Hugging Face),
// shapes, and which weights are FP8 block-quantized in FP8 checkpoints. The converter checks a
// checkpoint against it; synth generates exactly it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/dtype.h"
#include "format/model_config.h"

namespace moestream {

enum class TensorRole : uint8_t {
  kLinear,      // a projection: FP8 block-quantized in FP8 checkpoints
  kNorm,        // RMSNorm weight
  kEmbedding,   // embed_tokens, lm_head, shared_head.head
  kRouter,      // mlp.gate.weight (BF16, never quantized)
  kRouterBias,  // mlp.gate.e_score_correction_bias (F32)
  kProjection,  // a linear that stays BF16 in FP8 checkpoints (MTP eh_proj)
};

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  TensorRole role = TensorRole::kLinear;
  int64_t layer = -1;        // -1 for model-level tensors
  int64_t expert = -1;       // routed expert number, -1 otherwise
  int expert_part = -1;      // 0 gate, 1 up, 2 down for routed experts

  bool quantized_in_fp8() const { return role == TensorRole::kLinear; }
  // The dtype this tensor has in an FP8 (quantized) or a BF16 checkpoint.
  DType checkpoint_dtype(bool fp8_checkpoint) const;
};

// Every tensor of the model (routed experts included), in a stable order: model-level first,
// then layer by layer; routed experts of a layer last, by expert then gate/up/down.
std::vector<TensorSpec> deepseek_v3_tensor_specs(const ModelConfig& config);

// Bytes a tensor takes in a checkpoint of this config (FP8 or BF16, per config.quant_method),
// its block scales included: what a container holds for it, before padding.
uint64_t tensor_spec_bytes(const TensorSpec& spec, const ModelConfig& config);

// Recognises "model.layers.L.mlp.experts.E.{gate,up,down}_proj.weight".
struct ExpertTensorName {
  int64_t layer;
  int64_t expert;
  int part;
};
std::optional<ExpertTensorName> parse_expert_tensor_name(std::string_view name);

inline constexpr std::string_view kScaleSuffix = "_scale_inv";  // "<weight>_scale_inv"

}  // namespace moestream
