#include "format/model_config_json.h"

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "platform/json_limits.h"

namespace moestream {
namespace {

using nlohmann::json;

// Reads one key into `out` when present; the wrong JSON type is an error.
class ConfigReader {
 public:
  ConfigReader(const json& j, const std::string& file) : j_(j), file_(file) {}

  void integer(const json& obj, const char* key, int64_t* out, bool required = false) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (required) fail(std::string("missing required key \"") + key + "\"");
      return;
    }
    // 4096.0 counts as an integer; 1e110 or 2^64-1 must not reach a cast (found by fuzz_hf_checkpoint:
    // a float outside int64's range converted to an integer is undefined behaviour).
    constexpr double kLimit = 9.0e18;
    if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      fail(std::string("key \"") + key + "\" is out of range");
    } else if (it->is_number_integer() || it->is_number_unsigned()) {
      *out = it->get<int64_t>();
    } else if (it->is_number_float() && std::abs(it->get<double>()) < kLimit &&
               it->get<double>() == static_cast<double>(static_cast<int64_t>(it->get<double>()))) {
      *out = static_cast<int64_t>(it->get<double>());
    } else {
      fail(std::string("key \"") + key + "\" must be an integer");
    }
  }
  void number(const json& obj, const char* key, double* out) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return;
    if (!it->is_number()) return fail(std::string("key \"") + key + "\" must be a number");
    *out = it->get<double>();
  }
  void boolean(const json& obj, const char* key, bool* out) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return;
    if (!it->is_boolean()) return fail(std::string("key \"") + key + "\" must be true or false");
    *out = it->get<bool>();
  }
  void string(const json& obj, const char* key, std::string* out) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return;
    if (!it->is_string()) return fail(std::string("key \"") + key + "\" must be a string");
    *out = it->get<std::string>();
  }
  void fail(const std::string& message) {
    if (status_.ok()) status_ = invalid_argument(file_ + ": " + message);
  }
  const Status& status() const { return status_; }
  const json& root() const { return j_; }

 private:
  const json& j_;
  std::string file_;
  Status status_;
};

}  // namespace

Result<ModelConfig> parse_model_config_json(std::string_view text, const std::string& file_name) {
  MOESTREAM_ASSIGN_OR_RETURN(const json j, parse_json_with_limits(text, json_limits::kConfig, file_name));
  if (!j.is_object()) return invalid_argument(file_name + ": top level must be a JSON object");
  ModelConfig c;
  ConfigReader r(j, file_name);
  auto arch = j.find("architectures");
  if (arch != j.end() && arch->is_array() && !arch->empty() && (*arch)[0].is_string()) {
    c.architecture = (*arch)[0].get<std::string>();
  }
  r.integer(j, "vocab_size", &c.vocab_size, true);
  r.integer(j, "hidden_size", &c.hidden_size, true);
  r.integer(j, "intermediate_size", &c.intermediate_size, true);
  r.integer(j, "moe_intermediate_size", &c.moe_intermediate_size);
  r.integer(j, "num_hidden_layers", &c.num_hidden_layers, true);
  r.integer(j, "num_nextn_predict_layers", &c.num_nextn_predict_layers);
  r.integer(j, "first_k_dense_replace", &c.first_k_dense_replace);
  r.integer(j, "moe_layer_freq", &c.moe_layer_freq);
  r.integer(j, "num_attention_heads", &c.num_attention_heads, true);
  r.integer(j, "q_lora_rank", &c.q_lora_rank);
  r.integer(j, "kv_lora_rank", &c.kv_lora_rank, true);
  r.integer(j, "qk_nope_head_dim", &c.qk_nope_head_dim, true);
  r.integer(j, "qk_rope_head_dim", &c.qk_rope_head_dim, true);
  r.integer(j, "v_head_dim", &c.v_head_dim, true);
  r.integer(j, "n_routed_experts", &c.n_routed_experts);
  r.integer(j, "n_shared_experts", &c.n_shared_experts);
  r.integer(j, "num_experts_per_tok", &c.num_experts_per_tok);
  r.integer(j, "n_group", &c.n_group);
  r.integer(j, "topk_group", &c.topk_group);
  r.number(j, "routed_scaling_factor", &c.routed_scaling_factor);
  r.boolean(j, "norm_topk_prob", &c.norm_topk_prob);
  r.string(j, "scoring_func", &c.scoring_func);
  r.string(j, "topk_method", &c.topk_method);
  r.number(j, "rms_norm_eps", &c.rms_norm_eps);
  r.number(j, "rope_theta", &c.rope_theta);
  r.integer(j, "max_position_embeddings", &c.max_position_embeddings);
  r.boolean(j, "tie_word_embeddings", &c.tie_word_embeddings);
  r.integer(j, "bos_token_id", &c.bos_token_id);
  r.integer(j, "eos_token_id", &c.eos_token_id);
  auto rope = j.find("rope_scaling");
  if (rope != j.end() && rope->is_object()) {
    r.string(*rope, "type", &c.rope_scaling_type);
    if (c.rope_scaling_type.empty()) r.string(*rope, "rope_type", &c.rope_scaling_type);
    r.number(*rope, "factor", &c.rope_factor);
    r.integer(*rope, "original_max_position_embeddings", &c.rope_original_max_position_embeddings);
    r.number(*rope, "beta_fast", &c.rope_beta_fast);
    r.number(*rope, "beta_slow", &c.rope_beta_slow);
    r.number(*rope, "mscale", &c.rope_mscale);
    r.number(*rope, "mscale_all_dim", &c.rope_mscale_all_dim);
  } else if (rope != j.end() && !rope->is_null()) {
    r.fail("key \"rope_scaling\" must be an object");
  }
  auto quant = j.find("quantization_config");
  if (quant != j.end() && quant->is_object()) {
    r.string(*quant, "quant_method", &c.quant_method);
    r.string(*quant, "scale_fmt", &c.scale_fmt);
    auto block = quant->find("weight_block_size");
    if (block != quant->end()) {
      if (!block->is_array() || block->size() != 2 || !(*block)[0].is_number_integer() ||
          !(*block)[1].is_number_integer()) {
        r.fail("quantization_config.weight_block_size must be [rows, cols]");
      } else {
        c.weight_block_rows = (*block)[0].get<int64_t>();
        c.weight_block_cols = (*block)[1].get<int64_t>();
      }
    }
  } else if (quant != j.end() && !quant->is_null()) {
    r.fail("key \"quantization_config\" must be an object");
  }
  if (!r.status().ok()) return r.status();
  MOESTREAM_TRY(validate_model_config(c, file_name));
  return c;
}

Status validate_model_config(const ModelConfig& c, const std::string& what) {
  auto bad = [&](const std::string& m) { return invalid_argument(what + ": " + m); };
  constexpr int64_t kMaxDim = int64_t{1} << 24;  // far above any real size, stops overflow
  const std::pair<const char*, int64_t> positive[] = {
      {"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size},
      {"num_hidden_layers", c.num_hidden_layers}, {"num_attention_heads", c.num_attention_heads},
      {"kv_lora_rank", c.kv_lora_rank}, {"qk_rope_head_dim", c.qk_rope_head_dim},
      {"v_head_dim", c.v_head_dim}};
  for (const auto& [key, value] : positive) {
    if (value <= 0 || value > kMaxDim) return bad(std::string(key) + " must be in 1.." + std::to_string(kMaxDim));
  }
  const std::pair<const char*, int64_t> non_negative[] = {
      {"intermediate_size", c.intermediate_size}, {"moe_intermediate_size", c.moe_intermediate_size},
      {"num_nextn_predict_layers", c.num_nextn_predict_layers},
      {"first_k_dense_replace", c.first_k_dense_replace}, {"q_lora_rank", c.q_lora_rank},
      {"qk_nope_head_dim", c.qk_nope_head_dim}, {"n_routed_experts", c.n_routed_experts},
      {"n_shared_experts", c.n_shared_experts}, {"num_experts_per_tok", c.num_experts_per_tok},
      {"moe_layer_freq", c.moe_layer_freq}};
  for (const auto& [key, value] : non_negative) {
    if (value < 0 || value > kMaxDim) return bad(std::string(key) + " must be in 0.." + std::to_string(kMaxDim));
  }
  if (c.num_hidden_layers > 4096 || c.num_nextn_predict_layers > 16) return bad("too many layers");
  if (c.n_routed_experts > 0) {
    if (c.moe_intermediate_size <= 0) return bad("moe_intermediate_size must be > 0 with experts");
    if (c.n_group <= 0 || c.n_routed_experts % c.n_group != 0)
      return bad("n_group must divide n_routed_experts");
    if (c.topk_group <= 0 || c.topk_group > c.n_group) return bad("topk_group must be in 1..n_group");
    if (c.num_experts_per_tok <= 0 || c.num_experts_per_tok > c.n_routed_experts)
      return bad("num_experts_per_tok must be in 1..n_routed_experts");
    // The grouped router (runtime/moe_router.h) chooses among the experts of the topk_group
    // best groups: a config asking for more could be written but never run.
    const int64_t selectable = c.topk_group * (c.n_routed_experts / c.n_group);
    if (c.num_experts_per_tok > selectable) {
      return bad("num_experts_per_tok (" + std::to_string(c.num_experts_per_tok) + ") exceeds the " +
                 std::to_string(selectable) + " experts of topk_group (" + std::to_string(c.topk_group) +
                 ") of the n_group (" + std::to_string(c.n_group) + ") groups the router keeps");
    }
  }
  if (!c.quant_method.empty()) {
    if (c.quant_method != "fp8") return bad("unsupported quant_method \"" + c.quant_method + "\"");
    if (c.weight_block_rows <= 0 || c.weight_block_cols <= 0 || c.weight_block_rows > 65536 ||
        c.weight_block_cols > 65536)
      return bad("weight_block_size must be positive");
    if (!c.scale_fmt.empty() && c.scale_fmt != "ue8m0")
      return bad("unsupported scale_fmt \"" + c.scale_fmt + "\"");
  }
  return ok_status();
}

std::string model_config_to_json(const ModelConfig& c) {
  json j;
  j["architectures"] = json::array({c.architecture});
  j["model_type"] = "deepseek_v3";
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["moe_intermediate_size"] = c.moe_intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_nextn_predict_layers"] = c.num_nextn_predict_layers;
  j["first_k_dense_replace"] = c.first_k_dense_replace;
  j["moe_layer_freq"] = c.moe_layer_freq;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_attention_heads;
  j["q_lora_rank"] = c.q_lora_rank;
  j["kv_lora_rank"] = c.kv_lora_rank;
  j["qk_nope_head_dim"] = c.qk_nope_head_dim;
  j["qk_rope_head_dim"] = c.qk_rope_head_dim;
  j["v_head_dim"] = c.v_head_dim;
  j["n_routed_experts"] = c.n_routed_experts;
  j["n_shared_experts"] = c.n_shared_experts;
  j["num_experts_per_tok"] = c.num_experts_per_tok;
  j["n_group"] = c.n_group;
  j["topk_group"] = c.topk_group;
  j["routed_scaling_factor"] = c.routed_scaling_factor;
  j["norm_topk_prob"] = c.norm_topk_prob;
  j["scoring_func"] = c.scoring_func;
  j["topk_method"] = c.topk_method;
  j["hidden_act"] = "silu";
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  j["max_position_embeddings"] = c.max_position_embeddings;
  if (!c.rope_scaling_type.empty()) {
    j["rope_scaling"] = {{"type", c.rope_scaling_type},
                         {"factor", c.rope_factor},
                         {"original_max_position_embeddings", c.rope_original_max_position_embeddings},
                         {"beta_fast", c.rope_beta_fast},
                         {"beta_slow", c.rope_beta_slow},
                         {"mscale", c.rope_mscale},
                         {"mscale_all_dim", c.rope_mscale_all_dim}};
  }
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["attention_bias"] = false;
  j["bos_token_id"] = c.bos_token_id;
  j["eos_token_id"] = c.eos_token_id;
  j["torch_dtype"] = "bfloat16";
  if (!c.quant_method.empty()) {
    json q = {{"activation_scheme", "dynamic"},
              {"fmt", "e4m3"},
              {"quant_method", c.quant_method},
              {"weight_block_size", {c.weight_block_rows, c.weight_block_cols}}};
    if (!c.scale_fmt.empty()) q["scale_fmt"] = c.scale_fmt;
    j["quantization_config"] = q;
  }
  return j.dump(2) + "\n";
}

}  // namespace moestream
