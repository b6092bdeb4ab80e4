// Every hyperparameter the math needs, read from the container (originally config.json).
// Nothing in the runtime may assume DeepSeek-V3's numbers: a second, differently shaped
// configuration is tested against its own reference.
#pragma once

#include <cstdint>
#include <string>

namespace moestream {

struct ModelConfig {
  std::string architecture = "DeepseekV3ForCausalLM";
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;       // dense FFN width
  int64_t moe_intermediate_size = 0;   // per routed / shared expert
  int64_t num_hidden_layers = 0;       // main model layers (MTP layers come after these)
  int64_t num_nextn_predict_layers = 0;
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  int64_t num_attention_heads = 0;
  int64_t q_lora_rank = 0;             // 0 = no q LoRA (q_proj directly)
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;
  int64_t n_routed_experts = 0;
  int64_t n_shared_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t n_group = 1;
  int64_t topk_group = 1;
  double routed_scaling_factor = 1.0;
  bool norm_topk_prob = true;
  std::string scoring_func = "sigmoid";
  std::string topk_method = "noaux_tc";
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  int64_t max_position_embeddings = 0;
  // rope_scaling (type "yarn"); rope_scaling_type empty = plain RoPE.
  std::string rope_scaling_type;
  double rope_factor = 1.0;
  int64_t rope_original_max_position_embeddings = 0;
  double rope_beta_fast = 32.0;
  double rope_beta_slow = 1.0;
  double rope_mscale = 1.0;
  double rope_mscale_all_dim = 1.0;
  bool tie_word_embeddings = false;
  int64_t bos_token_id = 0;
  int64_t eos_token_id = 1;
  // quantization_config: "fp8" with weight_block_size, scale_fmt "" or "ue8m0"; empty = none.
  std::string quant_method;
  int64_t weight_block_rows = 128;
  int64_t weight_block_cols = 128;
  std::string scale_fmt;

  bool is_moe_layer(int64_t layer) const {
    return n_routed_experts > 0 && layer >= first_k_dense_replace &&
           (moe_layer_freq <= 1 || layer % moe_layer_freq == 0);
  }
  // MoE layers of the main model (the MTP layers, which run only for drafts, not counted).
  int64_t main_moe_layers() const {
    int64_t n = 0;
    for (int64_t l = 0; l < num_hidden_layers; ++l) n += is_moe_layer(l) ? 1 : 0;
    return n;
  }
  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  int64_t total_layers() const { return num_hidden_layers + num_nextn_predict_layers; }
};

}  // namespace moestream
