#include "format/model_config_json.h"

#include <doctest/doctest.h>

#include "interop/hf_checkpoint.h"
#include "support/nested_json.h"

namespace moestream {
namespace {

TEST_CASE("config.json of the golden V3.1 checkpoint parses into every field") {
  const std::string path = std::string(MOESTREAM_TEST_DATA_DIR) + "/golden/tinyA/fp8-v31-ue8m0/config.json";
  auto text = read_text_file(path);
  REQUIRE(text.ok());
  auto c = parse_model_config_json(*text, path);
  REQUIRE_MESSAGE(c.ok(), c.status().to_string());
  CHECK(c->hidden_size == 256);
  CHECK(c->num_hidden_layers == 3);
  CHECK(c->num_nextn_predict_layers == 1);
  CHECK(c->first_k_dense_replace == 1);
  CHECK(c->n_group == 8);
  CHECK(c->topk_group == 4);
  CHECK(c->routed_scaling_factor == 2.5);
  CHECK(c->rope_scaling_type == "yarn");
  CHECK(c->rope_factor == 40);
  CHECK(c->rope_original_max_position_embeddings == 4096);
  CHECK(c->quant_method == "fp8");
  CHECK(c->scale_fmt == "ue8m0");
  CHECK(c->weight_block_rows == 128);
}

TEST_CASE("model_config_to_json round-trips") {
  ModelConfig c;
  c.vocab_size = 100; c.hidden_size = 64; c.intermediate_size = 128; c.moe_intermediate_size = 32;
  c.num_hidden_layers = 2; c.num_nextn_predict_layers = 1; c.first_k_dense_replace = 1;
  c.num_attention_heads = 2; c.q_lora_rank = 0; c.kv_lora_rank = 16; c.qk_nope_head_dim = 8;
  c.qk_rope_head_dim = 8; c.v_head_dim = 8; c.n_routed_experts = 4; c.n_group = 2; c.topk_group = 1;
  c.num_experts_per_tok = 2; c.quant_method = "fp8"; c.scale_fmt = "ue8m0"; c.rope_scaling_type = "yarn";
  c.rope_factor = 40;
  auto back = parse_model_config_json(model_config_to_json(c), "x");
  REQUIRE_MESSAGE(back.ok(), back.status().to_string());
  CHECK(back->hidden_size == 64);
  CHECK(back->q_lora_rank == 0);
  CHECK(back->scale_fmt == "ue8m0");
  CHECK(back->rope_factor == 40);
  CHECK(back->n_group == 2);
}

TEST_CASE("bad config.json values are errors naming the file and key") {
  auto bad = parse_model_config_json(R"({"hidden_size": 1})", "cfg.json");
  CHECK(bad.status().message().find("cfg.json") != std::string::npos);
  CHECK(bad.status().message().find("vocab_size") != std::string::npos);
  CHECK_FALSE(parse_model_config_json("not json", "cfg.json").ok());
  CHECK_FALSE(parse_model_config_json("[]", "cfg.json").ok());
  const std::string base = R"("vocab_size":10,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,
    "num_attention_heads":1,"kv_lora_rank":4,"qk_nope_head_dim":4,"qk_rope_head_dim":4,"v_head_dim":4)";
  CHECK(parse_model_config_json("{" + base + "}", "x").ok());
  CHECK_FALSE(parse_model_config_json("{" + base + R"(,"n_routed_experts":6,"n_group":4,"moe_intermediate_size":4,"num_experts_per_tok":1})", "x").ok());
  CHECK_FALSE(parse_model_config_json("{" + base + R"(,"quantization_config":{"quant_method":"gptq"}})", "x").ok());
  CHECK_FALSE(parse_model_config_json("{" + base + R"(,"rope_scaling":5})", "x").ok());
  // Found by fuzz_hf_checkpoint: huge numbers are errors, not an out-of-range cast.
  for (const char* huge : {R"(,"first_k_dense_replace":1.3e110})", R"(,"first_k_dense_replace":18446744073709551615})",
                           R"(,"first_k_dense_replace":-1e300})"}) {
    CAPTURE(huge);
    CHECK_FALSE(parse_model_config_json("{" + base + huge + "}", "x").ok());
  }
}

TEST_CASE("config.json nested 100,000 levels deep is an error, not a stack overflow") {
  for (const std::string& deep : {testing::nested_arrays(100000), testing::nested_objects(100000)}) {
    auto r = parse_model_config_json(deep, "cfg.json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("cfg.json nests deeper than") != std::string::npos);
  }
}

}  // namespace
}  // namespace moestream
