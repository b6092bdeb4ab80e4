#include "format/model_tensors.h"

#include <charconv>

#include "format/container_layout.h"

namespace moestream {

DType TensorSpec::checkpoint_dtype(bool fp8_checkpoint) const {
  if (role == TensorRole::kRouterBias) return DType::kF32;
  if (fp8_checkpoint && role == TensorRole::kLinear) return DType::kF8E4M3;
  return DType::kBF16;
}

namespace {

void add(std::vector<TensorSpec>& out, std::string name, std::vector<int64_t> shape, TensorRole role,
         int64_t layer = -1) {
  TensorSpec s;
  s.name = std::move(name);
  s.shape = std::move(shape);
  s.role = role;
  s.layer = layer;
  out.push_back(std::move(s));
}

void add_layer(std::vector<TensorSpec>& out, const ModelConfig& c, int64_t l) {
  const int64_t h = c.hidden_size;
  const std::string p = "model.layers." + std::to_string(l) + ".";
  const bool mtp = l >= c.num_hidden_layers;
  if (mtp) {
    add(out, p + "embed_tokens.weight", {c.vocab_size, h}, TensorRole::kEmbedding, l);
    add(out, p + "enorm.weight", {h}, TensorRole::kNorm, l);
    add(out, p + "hnorm.weight", {h}, TensorRole::kNorm, l);
    add(out, p + "eh_proj.weight", {h, 2 * h}, TensorRole::kProjection, l);
    add(out, p + "shared_head.norm.weight", {h}, TensorRole::kNorm, l);
    add(out, p + "shared_head.head.weight", {c.vocab_size, h}, TensorRole::kEmbedding, l);
  }
  add(out, p + "input_layernorm.weight", {h}, TensorRole::kNorm, l);
  add(out, p + "post_attention_layernorm.weight", {h}, TensorRole::kNorm, l);
  const std::string a = p + "self_attn.";
  const int64_t heads = c.num_attention_heads;
  if (c.q_lora_rank > 0) {
    add(out, a + "q_a_proj.weight", {c.q_lora_rank, h}, TensorRole::kLinear, l);
    add(out, a + "q_a_layernorm.weight", {c.q_lora_rank}, TensorRole::kNorm, l);
    add(out, a + "q_b_proj.weight", {heads * c.qk_head_dim(), c.q_lora_rank}, TensorRole::kLinear, l);
  } else {
    add(out, a + "q_proj.weight", {heads * c.qk_head_dim(), h}, TensorRole::kLinear, l);
  }
  add(out, a + "kv_a_proj_with_mqa.weight", {c.kv_lora_rank + c.qk_rope_head_dim, h},
      TensorRole::kLinear, l);
  add(out, a + "kv_a_layernorm.weight", {c.kv_lora_rank}, TensorRole::kNorm, l);
  add(out, a + "kv_b_proj.weight", {heads * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank},
      TensorRole::kLinear, l);
  add(out, a + "o_proj.weight", {h, heads * c.v_head_dim}, TensorRole::kLinear, l);
  const std::string m = p + "mlp.";
  if (!c.is_moe_layer(l)) {
    add(out, m + "gate_proj.weight", {c.intermediate_size, h}, TensorRole::kLinear, l);
    add(out, m + "up_proj.weight", {c.intermediate_size, h}, TensorRole::kLinear, l);
    add(out, m + "down_proj.weight", {h, c.intermediate_size}, TensorRole::kLinear, l);
    return;
  }
  add(out, m + "gate.weight", {c.n_routed_experts, h}, TensorRole::kRouter, l);
  add(out, m + "gate.e_score_correction_bias", {c.n_routed_experts}, TensorRole::kRouterBias, l);
  if (c.n_shared_experts > 0) {
    const int64_t w = c.n_shared_experts * c.moe_intermediate_size;
    add(out, m + "shared_experts.gate_proj.weight", {w, h}, TensorRole::kLinear, l);
    add(out, m + "shared_experts.up_proj.weight", {w, h}, TensorRole::kLinear, l);
    add(out, m + "shared_experts.down_proj.weight", {h, w}, TensorRole::kLinear, l);
  }
  for (int64_t e = 0; e < c.n_routed_experts; ++e) {
    for (int part = 0; part < 3; ++part) {
      std::vector<int64_t> shape = part < 2 ? std::vector<int64_t>{c.moe_intermediate_size, h}
                                            : std::vector<int64_t>{h, c.moe_intermediate_size};
      add(out, expert_weight_name(l, e, part), std::move(shape), TensorRole::kLinear, l);
      out.back().expert = e;
      out.back().expert_part = part;
    }
  }
}

bool consume_int(std::string_view& s, int64_t* out) {
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(begin, end, *out);
  if (ec != std::errc() || ptr == begin || *out < 0) return false;
  if (ptr - begin > 1 && *begin == '0') return false;  // no leading zeros: names are canonical
  s.remove_prefix(static_cast<size_t>(ptr - begin));
  return true;
}

bool consume(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

}  // namespace

std::vector<TensorSpec> deepseek_v3_tensor_specs(const ModelConfig& c) {
  std::vector<TensorSpec> out;
  add(out, "model.embed_tokens.weight", {c.vocab_size, c.hidden_size}, TensorRole::kEmbedding);
  add(out, "model.norm.weight", {c.hidden_size}, TensorRole::kNorm);
  if (!c.tie_word_embeddings) {
    add(out, "lm_head.weight", {c.vocab_size, c.hidden_size}, TensorRole::kEmbedding);
  }
  for (int64_t l = 0; l < c.total_layers(); ++l) add_layer(out, c, l);
  return out;
}

std::optional<ExpertTensorName> parse_expert_tensor_name(std::string_view s) {
  ExpertTensorName n{};
  if (!consume(s, "model.layers.") || !consume_int(s, &n.layer) || !consume(s, ".mlp.experts.") ||
      !consume_int(s, &n.expert) || !consume(s, ".")) {
    return std::nullopt;
  }
  for (int part = 0; part < 3; ++part) {
    if (s == std::string(kExpertPartNames[part]) + ".weight") {
      n.part = part;
      return n;
    }
  }
  return std::nullopt;
}

}  // namespace moestream

namespace moestream {

uint64_t tensor_spec_bytes(const TensorSpec& spec, const ModelConfig& config) {
  uint64_t n = 1;
  for (int64_t d : spec.shape) n *= static_cast<uint64_t>(d);
  const DType dtype = spec.checkpoint_dtype(config.quant_method == "fp8");
  uint64_t bytes = n * dtype_size(dtype);
  if (dtype == DType::kF8E4M3) {
    bytes += scale_count(spec.shape[0], spec.shape[1], static_cast<uint32_t>(config.weight_block_rows),
                         static_cast<uint32_t>(config.weight_block_cols)) *
             (config.scale_fmt == "ue8m0" ? 1 : 4);
  }
  return bytes;
}

}  // namespace moestream
