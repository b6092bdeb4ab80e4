// Golden tests of the whole forward pass against tests/data/golden/tinyA (DeepSeek-V3
// reference implementation, float32): prefill in both attention forms, token-by-token
// decode through the KV cache, expert choices, and MTP draft logits.
#include "runtime/model.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <set>

#include "interop/hf_converter.h"
#include "runtime/container_weights.h"
#include "support/golden_data.h"
#include "../support/temp_dir.h"
#include "support/synthetic_model.h"

using namespace moestream;
using namespace moestream::testing;

namespace {

constexpr double kTolerance = 1e-4;  // golden README: float32 with exact dequantization
const char* const kVariants[] = {"fp8-v3", "fp8-v31-ue8m0", "bf16"};

struct RoutingLog {
  std::map<std::pair<int64_t, int64_t>, std::vector<int32_t>> chosen;  // (layer, position)
  RoutingObserver observer() {
    return [this](int64_t layer, int64_t position, const RoutingDecision& d) {
      std::vector<int32_t> sorted = d.experts;
      std::sort(sorted.begin(), sorted.end());
      chosen[{layer, position}] = sorted;
    };
  }
};

void check_variant(const std::string& variant, WeightSource& source, ExpertProvider& experts) {
  auto loaded = Model::load(source, experts);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
  Model& model = **loaded;
  const auto prompts = golden_prompts();
  const GoldenRouting routing = golden_routing(variant);
  const int64_t vocab = model.config().vocab_size;
  for (size_t p = 0; p < prompts.size(); ++p) {
    const auto& tokens = prompts[p];
    const NpyArray ref = read_npy_f32(golden_dir() + "/ref/" + variant + "/logits_p" +
                                      std::to_string(p) + ".npy");
    REQUIRE(ref.shape == std::vector<int64_t>{static_cast<int64_t>(tokens.size()), vocab});

    // Prefill, absorbed attention, with the router's choices recorded.
    RoutingLog log;
    model.set_routing_observer(log.observer());
    model.set_attention_form(AttentionForm::kAbsorbed);
    KvCache cache = model.new_kv_cache();
    std::vector<float> logits, hidden;
    REQUIRE(model.forward(tokens, cache, {&logits, &hidden}).ok());
    const double prefill = max_abs_diff(logits, ref.values);
    CHECK(cache.size() == static_cast<int64_t>(tokens.size()));
    CHECK(log.chosen == routing[p]);
    model.set_routing_observer({});

    // Prefill, expanded (naive) attention.
    model.set_attention_form(AttentionForm::kExpanded);
    KvCache cache_expanded = model.new_kv_cache();
    std::vector<float> logits_expanded;
    REQUIRE(model.forward(tokens, cache_expanded, {&logits_expanded, nullptr}).ok());
    const double expanded = max_abs_diff(logits_expanded, ref.values);
    model.set_attention_form(AttentionForm::kAbsorbed);

    // Decode: one token per step through the compressed cache.
    KvCache cache_decode = model.new_kv_cache();
    std::vector<float> decoded, step;
    RoutingLog decode_log;
    model.set_routing_observer(decode_log.observer());
    for (int32_t token : tokens) {
      REQUIRE(model.forward(std::span<const int32_t>(&token, 1), cache_decode, {&step, nullptr}).ok());
      decoded.insert(decoded.end(), step.begin(), step.end());
    }
    model.set_routing_observer({});
    const double decode = max_abs_diff(decoded, ref.values);
    CHECK(decode_log.chosen == routing[p]);

    // MTP draft logits: row i pairs input token mtp_input_ids[i] with main hidden row i.
    double mtp_diff = -1;
    if (model.mtp() != nullptr) {
      const auto mtp_ids = golden_mtp_input_ids(variant, p);
      const NpyArray mtp_ref = read_npy_f32(golden_dir() + "/ref/" + variant +
                                            "/mtp_logits_numpy_f64_p" + std::to_string(p) + ".npy");
      KvCache mtp_cache = model.mtp()->new_kv_cache();
      std::vector<float> draft;
      REQUIRE(model.mtp_forward(mtp_ids, hidden.data(), mtp_cache, &draft).ok());
      mtp_diff = max_abs_diff(draft, mtp_ref.values);
      CHECK(mtp_diff <= kTolerance);
    }
    MESSAGE(variant << " prompt " << p << " (T=" << tokens.size() << "): max|d| prefill "
                    << prefill << ", expanded " << expanded << ", decode " << decode << ", mtp "
                    << mtp_diff);
    CHECK(prefill <= kTolerance);
    CHECK(expanded <= kTolerance);
    CHECK(decode <= kTolerance);
    // The tiled absorbed kernel against the expanded reference, prefill and decode.
    const double tiled_prefill = max_abs_diff(logits, logits_expanded);
    const double tiled_decode = max_abs_diff(decoded, logits_expanded);
    MESSAGE(variant << " prompt " << p << ": tiled absorbed vs expanded: prefill " << tiled_prefill << ", decode "
                    << tiled_decode);
    CHECK(tiled_prefill <= 1e-5);
    CHECK(tiled_decode <= 1e-5);
  }
}

}  // namespace

TEST_CASE("golden tinyA from the HF checkpoint: prefill, decode, routing and MTP match the reference") {
  for (const std::string variant : kVariants) {
    CAPTURE(variant);
    HfTestCheckpoint checkpoint(golden_dir() + "/" + variant);
    check_variant(variant, checkpoint, checkpoint);
    CHECK(checkpoint.acquired() == checkpoint.released());
  }
}

TEST_CASE("golden tinyA through the .mst container: prefill, decode, routing and MTP match the reference") {
  TempDir dir;
  for (const std::string variant : kVariants) {
    CAPTURE(variant);
    ConvertOptions options;
    options.progress = false;
    const std::string path = dir.file(variant + ".mst");
    auto converted = convert_hf_checkpoint(golden_dir() + "/" + variant, path, options);
    REQUIRE_MESSAGE(converted.ok(), converted.status().to_string());
    auto reader = ContainerReader::open(path);
    REQUIRE_MESSAGE(reader.ok(), reader.status().to_string());
    ContainerWeightSource weights(**reader);
    ResidentExpertProvider experts(**reader);
    check_variant(variant, weights, experts);
    CHECK(experts.outstanding() == 0);
    CHECK(experts.acquisitions() > 0);
  }
}

TEST_CASE("KV cache bytes per token: kv_lora_rank + qk_rope_head_dim values per layer") {
  HfTestCheckpoint checkpoint(golden_dir() + "/fp8-v3");
  auto model = Model::load(checkpoint, checkpoint);
  REQUIRE(model.ok());
  // tinyA: 3 layers x (128 + 16) values.
  CHECK((*model)->new_kv_cache(KvCachePrecision::kF32).bytes_per_token() == 3 * 144 * 4);
  CHECK((*model)->new_kv_cache(KvCachePrecision::kBF16).bytes_per_token() == 3 * 144 * 2);
  REQUIRE((*model)->mtp() != nullptr);
  CHECK((*model)->mtp()->new_kv_cache(KvCachePrecision::kBF16).bytes_per_token() == 144 * 2);
}

TEST_CASE("a bfloat16 KV cache stays close to the golden logits") {
  HfTestCheckpoint checkpoint(golden_dir() + "/fp8-v3");
  auto model = Model::load(checkpoint, checkpoint);
  REQUIRE(model.ok());
  const auto prompts = golden_prompts();
  const auto& tokens = prompts[2];
  const NpyArray ref = read_npy_f32(golden_dir() + "/ref/fp8-v3/logits_p2.npy");
  KvCache cache = (*model)->new_kv_cache(KvCachePrecision::kBF16);
  std::vector<float> decoded, step;
  for (int32_t token : tokens) {
    REQUIRE((*model)->forward(std::span<const int32_t>(&token, 1), cache, {&step, nullptr}).ok());
    decoded.insert(decoded.end(), step.begin(), step.end());
  }
  const double diff = max_abs_diff(decoded, ref.values);
  MESSAGE("bf16 KV cache, fp8-v3 prompt 2 decode: max|d| " << diff);
  CHECK(diff < 0.1);
}

namespace {

// Prefill (both attention forms) and token-by-token decode must agree on any shape.
void check_self_consistent(const ModelConfig& config, bool fp8) {
  SyntheticModel synthetic(config, fp8, 1234);
  auto loaded = Model::load(synthetic, synthetic);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
  Model& model = **loaded;
  const std::vector<int32_t> tokens = {0, 17, 300, 5, 77, 123, 9, 250, 42, 3, 199};
  int64_t routed = 0;
  model.set_routing_observer([&](int64_t, int64_t, const RoutingDecision& d) {
    CHECK(static_cast<int64_t>(d.experts.size()) == config.num_experts_per_tok);
    float sum = 0;
    for (float w : d.weights) sum += w;
    CHECK(sum == doctest::Approx(config.routed_scaling_factor).epsilon(1e-5));
    ++routed;
  });
  KvCache cache = model.new_kv_cache();
  std::vector<float> prefill, hidden;
  REQUIRE(model.forward(tokens, cache, {&prefill, &hidden}).ok());
  int64_t moe_layers = 0;
  for (int64_t l = 0; l < config.num_hidden_layers; ++l) moe_layers += config.is_moe_layer(l);
  CHECK(routed == moe_layers * static_cast<int64_t>(tokens.size()));
  model.set_routing_observer({});
  double scale = 0;
  for (float v : prefill) scale = std::max(scale, static_cast<double>(std::abs(v)));
  CHECK(scale > 0.1);
  CHECK(std::isfinite(scale));

  model.set_attention_form(AttentionForm::kExpanded);
  KvCache cache_expanded = model.new_kv_cache();
  std::vector<float> expanded;
  REQUIRE(model.forward(tokens, cache_expanded, {&expanded, nullptr}).ok());
  model.set_attention_form(AttentionForm::kAbsorbed);

  // Decode in uneven chunks: 1 token, then 3, then one at a time.
  KvCache cache_decode = model.new_kv_cache();
  std::vector<float> decoded, step;
  size_t i = 0;
  for (size_t chunk : {size_t{1}, size_t{3}}) {
    REQUIRE(model.forward(std::span<const int32_t>(tokens.data() + i, chunk), cache_decode, {&step, nullptr}).ok());
    decoded.insert(decoded.end(), step.begin(), step.end());
    i += chunk;
  }
  for (; i < tokens.size(); ++i) {
    REQUIRE(model.forward(std::span<const int32_t>(&tokens[i], 1), cache_decode, {&step, nullptr}).ok());
    decoded.insert(decoded.end(), step.begin(), step.end());
  }
  CHECK(max_abs_diff(prefill, expanded) <= 1e-4 * scale);
  CHECK(max_abs_diff(prefill, decoded) <= 1e-4 * scale);

  if (config.num_nextn_predict_layers > 0) {
    REQUIRE(model.mtp() != nullptr);
    std::vector<int32_t> next(tokens.begin() + 1, tokens.end());
    next.push_back(1);
    KvCache mtp_cache = model.mtp()->new_kv_cache();
    std::vector<float> draft, draft_step;
    REQUIRE(model.mtp_forward(next, hidden.data(), mtp_cache, &draft).ok());
    KvCache mtp_step_cache = model.mtp()->new_kv_cache();
    std::vector<float> drafts_stepwise;
    for (size_t t = 0; t < next.size(); ++t) {
      REQUIRE(model.mtp_forward(std::span<const int32_t>(&next[t], 1),
                                hidden.data() + t * config.hidden_size, mtp_step_cache, &draft_step).ok());
      drafts_stepwise.insert(drafts_stepwise.end(), draft_step.begin(), draft_step.end());
    }
    CHECK(draft.size() == tokens.size() * config.vocab_size);
    CHECK(max_abs_diff(draft, drafts_stepwise) <= 1e-4 * scale);
  }
  CHECK(synthetic.outstanding() == 0);
  CHECK(synthetic.acquired() > 0);
}

}  // namespace

TEST_CASE("differently shaped configurations: prefill, expanded attention and decode agree") {
  SUBCASE("second shape, FP8 with float32 scales, 96-wide experts") {
    check_self_consistent(second_shape_config(), true);
  }
  SUBCASE("UE8M0 scales, 64x32 blocks, no shared expert, q_lora_rank 0, one group") {
    ModelConfig c = second_shape_config();
    c.scale_fmt = "ue8m0";
    c.weight_block_rows = 64;
    c.weight_block_cols = 32;
    c.n_shared_experts = 0;
    c.q_lora_rank = 0;
    c.n_group = 1;
    c.topk_group = 1;
    c.num_experts_per_tok = 5;
    c.num_nextn_predict_layers = 0;
    check_self_consistent(c, true);
  }
  SUBCASE("BF16 weights, plain RoPE, two dense layers") {
    ModelConfig c = second_shape_config();
    c.rope_scaling_type = "";
    c.first_k_dense_replace = 2;
    check_self_consistent(c, false);
  }
}

TEST_CASE("bad inputs are errors that say what is wrong") {
  SyntheticModel synthetic(second_shape_config(), true, 7);
  auto model = Model::load(synthetic, synthetic);
  REQUIRE(model.ok());
  KvCache cache = (*model)->new_kv_cache();
  const std::vector<int32_t> bad = {0, 301};
  Status s = (*model)->forward(bad, cache, {});
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("301") != std::string::npos);
  KvCache wrong(2, 80, 8, KvCachePrecision::kF32);
  CHECK_FALSE((*model)->forward(std::vector<int32_t>{0}, wrong, {}).ok());

  ModelConfig mismatched = second_shape_config();
  SyntheticModel other(mismatched, true, 7);
  struct Renamed : WeightSource {
    const WeightSource& inner;
    ModelConfig config_;
    explicit Renamed(const WeightSource& i, ModelConfig c) : inner(i), config_(c) {}
    const ModelConfig& config() const override { return config_; }
    Result<TensorView> tensor(std::string_view n) const override { return inner.tensor(n); }
    bool has_tensor(std::string_view n) const override { return inner.has_tensor(n); }
  };
  mismatched.kv_lora_rank = 64;  // the tensors say 80
  Renamed renamed(other, mismatched);
  auto failed = Model::load(renamed, other);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().message().find("kv_a_proj_with_mqa") != std::string::npos);
}

namespace {

// Remembers the prefetch hints (layer, experts), hands out the inner provider's experts.
struct HintLog : ExpertProvider {
  explicit HintLog(ExpertProvider& inner) : inner(inner) {}
  Result<AcquiredExpert> acquire(int64_t layer, int64_t expert) override { return inner.acquire(layer, expert); }
  void release(const AcquiredExpert& expert) override { inner.release(expert); }
  void prefetch(int64_t layer, std::span<const int64_t> experts) override {
    hints.emplace_back(layer, std::vector<int64_t>(experts.begin(), experts.end()));
  }
  std::vector<int64_t> layers() const {
    std::vector<int64_t> out;
    for (const auto& h : hints) out.push_back(h.first);
    return out;
  }
  ExpertProvider& inner;
  std::vector<std::pair<int64_t, std::vector<int64_t>>> hints;
};

}  // namespace

TEST_CASE("the pre-gating observer sees each guess that goes to prefetch, with router affinities, and changes nothing") {
  HfTestCheckpoint checkpoint(golden_dir() + "/fp8-v3");
  HintLog provider(checkpoint);
  auto loaded = Model::load(checkpoint, provider);
  REQUIRE(loaded.ok());
  Model& model = **loaded;
  model.set_prefetch_margin(2);
  const std::vector<int32_t> prompt = golden_prompts()[1];
  KvCache plain_kv = model.new_kv_cache();
  std::vector<float> plain, observed;
  Status first = model.forward(prompt, plain_kv, {&plain, nullptr});
  REQUIRE_MESSAGE(first.ok(), first.to_string());
  const auto plain_hints = provider.hints;
  provider.hints.clear();
  std::vector<std::pair<int64_t, std::vector<int64_t>>> seen;
  model.set_pregate_observer([&](int64_t layer, std::span<const int64_t> experts, std::span<const float> scores) {
    REQUIRE(scores.size() == experts.size());
    for (float s : scores) CHECK((s > 0.0f && s < 1.0f));
    seen.emplace_back(layer, std::vector<int64_t>(experts.begin(), experts.end()));
  });
  KvCache kv = model.new_kv_cache();
  REQUIRE(model.forward(prompt, kv, {&observed, nullptr}).ok());
  CHECK(observed == plain);
  CHECK(!seen.empty());
  CHECK(seen == provider.hints);
  CHECK(provider.hints == plain_hints);
}

TEST_CASE("with a lookahead, a MoE layer after dense layers is pre-gated from each of the N layers before it, the embeddings included") {
  // Three dense layers, then MoE layers 3 and 4 (DeepSeek-V3's start).
  ModelConfig c = second_shape_config();
  c.num_hidden_layers = 5;
  c.first_k_dense_replace = 3;
  c.num_nextn_predict_layers = 0;
  SyntheticModel synthetic(c, true, 5);
  HintLog provider(synthetic);
  auto loaded = Model::load(synthetic, provider);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
  Model& model = **loaded;
  const std::vector<int32_t> prompt = {3, 14, 15, 92};
  std::vector<float> reference;
  {
    KvCache kv = model.new_kv_cache();
    REQUIRE(model.forward(prompt, kv, {&reference, nullptr}).ok());
  }
  // Lookahead N: layer 3 is guessed after the attention of layers 3-N..2 and, from N = 4, from
  // the embeddings before layer 0 (layer -1); layer 4 after layer 3's attention and again after
  // its shared expert.
  const std::vector<std::pair<int64_t, std::vector<int64_t>>> expected = {
      {1, {3, 4, 4}}, {2, {3, 3, 4, 4}}, {3, {3, 3, 3, 4, 4}}, {4, {3, 3, 3, 3, 4, 4}}, {8, {3, 3, 3, 3, 4, 4}}};
  for (const auto& [lookahead, layers] : expected) {
    CAPTURE(lookahead);
    model.set_prefetch_margin(1, lookahead);
    provider.hints.clear();
    KvCache kv = model.new_kv_cache();
    std::vector<float> logits;
    REQUIRE(model.forward(prompt, kv, {&logits, nullptr}).ok());
    CHECK(provider.layers() == layers);
    for (const auto& [layer, experts] : provider.hints) {
      CHECK(experts.size() >= static_cast<size_t>(c.num_experts_per_tok + 1));  // each row's top-k + margin 1, united
    }
    CHECK(logits == reference);  // guesses change what is read, never the result
  }
  model.set_prefetch_margin(-1);
  provider.hints.clear();
  KvCache kv = model.new_kv_cache();
  REQUIRE(model.forward(prompt, kv, {}).ok());
  CHECK(provider.hints.empty());
}

TEST_CASE("long context: the tiled absorbed attention matches the expanded reference at 4.6K positions (YaRN beyond 4K)") {
  // The small preset's attention shape (8 heads, 128 + 16 latent, 32 + 16 query, 32 value),
  // one MoE layer, YaRN with the original context at 4096 like DeepSeek-V3, so the last
  // positions are beyond it. Prefill in 256-token chunks, then decode steps past 4.6K.
  ModelConfig c = second_shape_config();
  c.hidden_size = 256;
  c.num_hidden_layers = 1;
  c.first_k_dense_replace = 0;
  c.num_nextn_predict_layers = 0;
  c.num_attention_heads = 8;
  c.q_lora_rank = 256;
  c.kv_lora_rank = 128;
  c.qk_nope_head_dim = 32;
  c.qk_rope_head_dim = 16;
  c.v_head_dim = 32;
  c.rope_factor = 40;
  c.rope_original_max_position_embeddings = 4096;
  c.max_position_embeddings = 163840;
  SyntheticModel synthetic(c, true, 99);
  auto loaded = Model::load(synthetic, synthetic);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
  Model& model = **loaded;
  const int64_t prompt = 4600, decode_steps = 4;
  std::vector<int32_t> tokens(static_cast<size_t>(prompt + decode_steps));
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>((i * 7919 + 13) % c.vocab_size);
  auto run = [&](AttentionForm form) {
    model.set_attention_form(form);
    KvCache cache = model.new_kv_cache();
    std::vector<float> step, last;
    for (int64_t begin = 0; begin < prompt; begin += 256) {
      const int64_t n = std::min<int64_t>(256, prompt - begin);
      REQUIRE(model.forward(std::span<const int32_t>(tokens.data() + begin, n), cache, {&step, nullptr}).ok());
    }
    last.assign(step.end() - c.vocab_size, step.end());  // the prompt's last position
    for (int64_t t = prompt; t < prompt + decode_steps; ++t) {
      REQUIRE(model.forward(std::span<const int32_t>(&tokens[t], 1), cache, {&step, nullptr}).ok());
      last.insert(last.end(), step.begin(), step.end());
    }
    return last;
  };
  const std::vector<float> tiled = run(AttentionForm::kAbsorbed);
  const std::vector<float> expanded = run(AttentionForm::kExpanded);
  model.set_attention_form(AttentionForm::kAbsorbed);
  double scale = 0;
  for (float v : expanded) scale = std::max(scale, static_cast<double>(std::abs(v)));
  const double diff = max_abs_diff(tiled, expanded);
  MESSAGE("positions 4599..4603: max|d| tiled vs expanded " << diff << " (logits up to " << scale << ")");
  CHECK(scale > 0.1);
  CHECK(diff <= 1e-4);
}
