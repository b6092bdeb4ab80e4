// Test-only: serves a Hugging Face DeepSeek-V3 checkpoint directory (config.json, sharded
// safetensors, index) as a WeightSource + ExpertProvider, so the forward pass can be checked
// against the golden logits without going through the .mst converter. Everything is read
// into memory (the golden checkpoints are ~20 MB each).
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "format/model_config.h"
#include "runtime/expert_provider.h"
#include "expert_by_name.h"
#include "runtime/weight_source.h"
#include "support/file_contents.h"

namespace moestream::testing {

inline ModelConfig model_config_from_hf_json(const nlohmann::json& j) {
  ModelConfig c;
  auto get = [&](const char* key, auto fallback) {
    using T = decltype(fallback);
    return j.contains(key) && !j[key].is_null() ? j[key].get<T>() : fallback;
  };
  c.vocab_size = get("vocab_size", int64_t{0});
  c.hidden_size = get("hidden_size", int64_t{0});
  c.intermediate_size = get("intermediate_size", int64_t{0});
  c.moe_intermediate_size = get("moe_intermediate_size", int64_t{0});
  c.num_hidden_layers = get("num_hidden_layers", int64_t{0});
  c.num_nextn_predict_layers = get("num_nextn_predict_layers", int64_t{0});
  c.first_k_dense_replace = get("first_k_dense_replace", int64_t{0});
  c.moe_layer_freq = get("moe_layer_freq", int64_t{1});
  c.num_attention_heads = get("num_attention_heads", int64_t{0});
  c.q_lora_rank = get("q_lora_rank", int64_t{0});
  c.kv_lora_rank = get("kv_lora_rank", int64_t{0});
  c.qk_nope_head_dim = get("qk_nope_head_dim", int64_t{0});
  c.qk_rope_head_dim = get("qk_rope_head_dim", int64_t{0});
  c.v_head_dim = get("v_head_dim", int64_t{0});
  c.n_routed_experts = get("n_routed_experts", int64_t{0});
  c.n_shared_experts = get("n_shared_experts", int64_t{0});
  c.num_experts_per_tok = get("num_experts_per_tok", int64_t{0});
  c.n_group = get("n_group", int64_t{1});
  c.topk_group = get("topk_group", int64_t{1});
  c.routed_scaling_factor = get("routed_scaling_factor", 1.0);
  c.norm_topk_prob = get("norm_topk_prob", true);
  c.scoring_func = get("scoring_func", std::string("sigmoid"));
  c.topk_method = get("topk_method", std::string("noaux_tc"));
  c.rms_norm_eps = get("rms_norm_eps", 1e-6);
  c.rope_theta = get("rope_theta", 10000.0);
  c.max_position_embeddings = get("max_position_embeddings", int64_t{0});
  c.tie_word_embeddings = get("tie_word_embeddings", false);
  if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) {
    const auto& r = j["rope_scaling"];
    c.rope_scaling_type = r.value("type", r.value("rope_type", std::string()));
    c.rope_factor = r.value("factor", 1.0);
    c.rope_original_max_position_embeddings = r.value("original_max_position_embeddings", int64_t{0});
    c.rope_beta_fast = r.value("beta_fast", 32.0);
    c.rope_beta_slow = r.value("beta_slow", 1.0);
    c.rope_mscale = r.value("mscale", 1.0);
    c.rope_mscale_all_dim = r.value("mscale_all_dim", 0.0);
  }
  if (j.contains("quantization_config")) {
    const auto& q = j["quantization_config"];
    c.quant_method = q.value("quant_method", std::string());
    c.scale_fmt = q.value("scale_fmt", std::string());
    if (q.contains("weight_block_size")) {
      c.weight_block_rows = q["weight_block_size"][0].get<int64_t>();
      c.weight_block_cols = q["weight_block_size"][1].get<int64_t>();
    }
  }
  return c;
}

class HfTestCheckpoint : public WeightSource, public ExpertProvider {
 public:
  explicit HfTestCheckpoint(const std::string& dir) {
    config_ = model_config_from_hf_json(nlohmann::json::parse(read_file(dir + "/config.json")));
    const auto index = nlohmann::json::parse(read_file(dir + "/model.safetensors.index.json"));
    std::map<std::string, bool> files;
    for (auto& [name, file] : index["weight_map"].items()) files[file.get<std::string>()] = true;
    for (auto& [file, unused] : files) load_shard(dir + "/" + file);
  }

  const ModelConfig& config() const override { return config_; }
  bool has_tensor(std::string_view name) const override { return raw_.count(std::string(name)) > 0; }
  Result<TensorView> tensor(std::string_view name) const override {
    auto it = raw_.find(std::string(name));
    if (it == raw_.end()) return not_found(std::string(name) + ": no such tensor");
    TensorView v = it->second;
    v.name = it->first;
    const std::string base = std::string(name);
    if (v.dtype == DType::kF8E4M3) {
      auto s = raw_.find(base + "_scale_inv");
      if (s != raw_.end()) {
        v.scale_format = ScaleFormat::kF32;
        v.scales = s->second.data;
        v.block_rows = static_cast<uint32_t>(config_.weight_block_rows);
        v.block_cols = static_cast<uint32_t>(config_.weight_block_cols);
      }
    }
    return v;
  }

  Result<AcquiredExpert> acquire(int64_t layer, int64_t expert) override {
    MOESTREAM_ASSIGN_OR_RETURN(AcquiredExpert a, acquire_expert_by_name(*this, layer, expert));
    ++acquired_;
    return a;
  }
  void release(const AcquiredExpert&) override { ++released_; }

  int64_t acquired() const { return acquired_; }
  int64_t released() const { return released_; }

 private:
  void load_shard(const std::string& path) {
    auto bytes = std::make_unique<std::string>(read_file(path));
    uint64_t header_size = 0;
    std::memcpy(&header_size, bytes->data(), 8);
    const auto header = nlohmann::json::parse(bytes->substr(8, header_size));
    const char* data = bytes->data() + 8 + header_size;
    for (auto& [name, info] : header.items()) {
      if (name == "__metadata__") continue;
      TensorView v;
      const std::string dtype = info["dtype"].get<std::string>();
      v.dtype = dtype == "F8_E4M3" ? DType::kF8E4M3 : dtype == "BF16" ? DType::kBF16 : DType::kF32;
      v.rank = static_cast<uint32_t>(info["shape"].size());
      for (uint32_t i = 0; i < v.rank; ++i) v.shape[i] = info["shape"][i].get<int64_t>();
      const uint64_t begin = info["data_offsets"][0].get<uint64_t>();
      const uint64_t end = info["data_offsets"][1].get<uint64_t>();
      v.data = data + begin;
      v.data_bytes = end - begin;
      raw_[name] = v;
    }
    shards_.push_back(std::move(bytes));
  }

  ModelConfig config_;
  std::vector<std::unique_ptr<std::string>> shards_;
  std::map<std::string, TensorView> raw_;
  int64_t acquired_ = 0;
  int64_t released_ = 0;
};

}  // namespace moestream::testing
