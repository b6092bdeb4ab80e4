#include "format/synthetic_model.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "format/container_verifier.h"
#include "format/embedded_tokenizer.h"
#include "format/model_config_json.h"
#include "format/model_tensors.h"
#include "platform/float_formats.h"
#include "support/temp_dir.h"

namespace moestream {
namespace {

Result<std::unique_ptr<ContainerReader>> synth(const testing::TempDir& dir, SynthOptions o,
                                               const std::string& name = "s.mst") {
  o.progress = false;
  auto s = synthesize_container(o, dir.file(name));
  if (!s.ok()) return s.status();
  return ContainerReader::open(dir.file(name), {.verify_checksums = true});
}

TEST_CASE("synth tiny has the golden config A shapes and the full tensor set") {
  testing::TempDir dir;
  SynthOptions o;
  o.preset = "tiny";
  auto r = synth(dir, o);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  const ModelConfig& c = (*r)->config();
  CHECK(c.hidden_size == 256);
  CHECK(c.n_routed_experts == 32);
  CHECK(c.vocab_size == 2048);
  CHECK(check_tensor_set(c, **r).ok());
  CHECK((*r)->has_tensor("model.layers.3.eh_proj.weight"));  // MTP
  // The built-in tokenizer cut to the 2,048-id vocabulary: text never yields an id >= vocab.
  auto ids = tokenizer_json_id_limit((*r)->tokenizer_json());
  REQUIRE(ids.ok());
  CHECK(*ids == 2048);
  CHECK((*r)->tokenizer_json().find("<｜User｜>") != std::string::npos);
}

TEST_CASE("synth --experts gives a router that can choose num_experts_per_tok (as run requires)") {
  for (int64_t experts : {1, 2, 3, 5, 8, 12, 64}) {
    CAPTURE(experts);
    SynthOptions o;
    o.preset = "tiny";
    o.experts = experts;
    auto c = synth_preset_config(o);
    REQUIRE_MESSAGE(c.ok(), c.status().to_string());
    CHECK(c->num_experts_per_tok >= 1);
    CHECK(c->num_experts_per_tok <= c->topk_group * (c->n_routed_experts / c->n_group));
  }
}

TEST_CASE("the writer refuses a container run would reject: router top-k, tokenizer beyond the vocabulary") {
  testing::TempDir dir;
  SynthOptions o;
  o.preset = "tiny";
  auto c = synth_preset_config(o);
  REQUIRE(c.ok());
  ModelConfig bad = *c;
  bad.topk_group = 1;  // 1 group of 4 experts cannot give 8
  CHECK_FALSE(validate_model_config(bad, "x").ok());
  CHECK(check_tokenizer_fits(embedded_tokenizer_json(), 2048).code() == ErrorCode::kInvalidArgument);
  CHECK(check_tokenizer_fits(embedded_tokenizer_json(), 129280).ok());
  CHECK(check_tokenizer_fits("", 16).ok());
  auto fitted = embedded_tokenizer_for_vocab(4096);
  REQUIRE(fitted.ok());
  CHECK(check_tokenizer_fits(fitted->tokenizer_json, 4096).ok());
  CHECK_FALSE(embedded_tokenizer_for_vocab(300).ok());
}

TEST_CASE("synth weights have valid FP8 codes, positive scales, a grouped router bias") {
  testing::TempDir dir;
  SynthOptions o;
  o.preset = "tiny";
  o.layers = 2;
  o.experts = 8;
  auto r = synth(dir, o);
  REQUIRE(r.ok());
  const ModelConfig& c = (*r)->config();
  CHECK(c.n_group == 8);
  CHECK(c.num_experts_per_tok == 4);  // topk_group 4 of 8 one-expert groups
  auto w = (*r)->mapped_expert_weights(1, 3);
  REQUIRE(w.ok());
  const auto* codes = static_cast<const uint8_t*>(w->down.data);
  for (int64_t i = 0; i < w->down.numel(); ++i) REQUIRE((codes[i] & 0x7f) != 0x7f);  // no NaN
  const auto* scales = static_cast<const float*>(w->down.scales);
  for (int64_t i = 0; i < w->down.scale_rows() * w->down.scale_cols(); ++i) {
    CHECK(scales[i] > 0.0f);
    CHECK(std::isfinite(scales[i]));
  }
  auto bias = (*r)->tensor("model.layers.1.mlp.gate.e_score_correction_bias");
  REQUIRE(bias.ok());
  CHECK(bias->dtype == DType::kF32);
  auto embed = (*r)->tensor("model.embed_tokens.weight");
  auto mtp_embed = (*r)->tensor("model.layers.2.embed_tokens.weight");
  REQUIRE(embed.ok());
  REQUIRE(mtp_embed.ok());
  CHECK(std::memcmp(embed->data, mtp_embed->data, embed->data_bytes) == 0);  // a copy, as in V3
}

TEST_CASE("synth is deterministic per seed and --ue8m0 stores power-of-two scales") {
  testing::TempDir dir;
  SynthOptions o;
  o.preset = "tiny";
  o.layers = 1;
  o.experts = 4;
  o.ue8m0 = true;
  auto a = synth(dir, o, "a.mst");
  auto b = synth(dir, o, "b.mst");
  o.seed = 2;
  auto c = synth(dir, o, "c.mst");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  auto wa = (*a)->mapped_expert_weights(0, 1);
  auto wb = (*b)->mapped_expert_weights(0, 1);
  auto wc = (*c)->mapped_expert_weights(0, 1);
  REQUIRE(wa.ok());
  CHECK(wa->gate.scale_format == ScaleFormat::kUE8M0);
  CHECK(std::memcmp(wa->gate.data, wb->gate.data, wa->gate.data_bytes) == 0);
  CHECK(std::memcmp(wa->gate.data, wc->gate.data, wa->gate.data_bytes) != 0);
  CHECK((*a)->config().scale_fmt == "ue8m0");
}

TEST_CASE("synth presets and options are validated") {
  SynthOptions o;
  o.preset = "full";
  o.layers = 4;
  auto c = synth_preset_config(o);
  REQUIRE(c.ok());
  CHECK(c->hidden_size == 7168);
  CHECK(c->n_routed_experts == 256);
  CHECK(c->first_k_dense_replace == 3);
  CHECK(c->vocab_size == 129280);
  // 3 dense layers, layer 3 and the MTP layer 4 are MoE: 2 x 256 experts of 44.05 MB.
  CHECK(synth_model_bytes(*c) > uint64_t{30} << 30);
  o.preset = "small";
  o.layers = -1;
  auto small = synth_preset_config(o);
  REQUIRE(small.ok());
  CHECK(small->vocab_size == 129280);
  CHECK(synth_model_bytes(*small) < uint64_t{600} << 20);
  o.preset = "medium";
  CHECK_FALSE(synth_preset_config(o).ok());
  o.preset = "tiny";
  o.experts = 0;
  CHECK_FALSE(synth_preset_config(o).ok());
}

}  // namespace
}  // namespace moestream
