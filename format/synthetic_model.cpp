#include "format/synthetic_model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include "format/container_layout.h"
#include "format/embedded_tokenizer.h"
#include "format/model_config_json.h"
#include "format/model_tensors.h"
#include "platform/aligned_buffer.h"
#include "platform/clock.h"
#include "platform/float_formats.h"
#include "platform/progress_bar.h"

namespace moestream {

namespace {

constexpr uint64_t kChunkBytes = 32 << 20;  // generation granularity: bounds memory
constexpr float kCodeScale = 32.0f;         // FP8 codes hold N(0,1) * 32 (max ~160 < 448)

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t name_seed(const std::string& name, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (char c : name) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h;
}

// 65536 standard-normal samples: table lookups are far faster than Box-Muller per element.
struct NormalTables {
  std::array<float, 65536> normal;
  std::array<uint8_t, 65536> e4m3;  // f32_to_e4m3(normal * kCodeScale)
  NormalTables() {
    uint64_t s = 12345;
    for (size_t i = 0; i < normal.size(); i += 2) {
      double u1 = (static_cast<double>(splitmix64(s) >> 11) + 0.5) / 9007199254740992.0;
      double u2 = static_cast<double>(splitmix64(s) >> 11) / 9007199254740992.0;
      double r = std::sqrt(-2.0 * std::log(u1));
      normal[i] = static_cast<float>(r * std::cos(2 * M_PI * u2));
      normal[i + 1] = static_cast<float>(r * std::sin(2 * M_PI * u2));
    }
    for (size_t i = 0; i < normal.size(); ++i) e4m3[i] = f32_to_e4m3(normal[i] * kCodeScale);
  }
};

const NormalTables& tables() {
  static const NormalTables t;
  return t;
}

void fill_fp8(uint8_t* out, uint64_t n, uint64_t& state) {
  const auto& t = tables().e4m3;
  uint64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint64_t r = splitmix64(state);
    out[i] = t[r & 0xffff];
    out[i + 1] = t[(r >> 16) & 0xffff];
    out[i + 2] = t[(r >> 32) & 0xffff];
    out[i + 3] = t[r >> 48];
  }
  for (; i < n; ++i) out[i] = t[splitmix64(state) & 0xffff];
}

// BF16 values mean + sigma * N(0,1).
void fill_bf16(uint16_t* out, uint64_t n, float mean, float sigma, uint64_t& state) {
  const auto& t = tables().normal;
  for (uint64_t i = 0; i < n; i += 4) {
    uint64_t r = splitmix64(state);
    for (uint64_t k = 0; k < 4 && i + k < n; ++k) {
      out[i + k] = f32_to_bf16(mean + sigma * t[(r >> (16 * k)) & 0xffff]);
    }
  }
}

// The value distribution of each role (the golden generator's choices).
void role_distribution(const TensorSpec& spec, const ModelConfig& c, float* mean, float* sigma) {
  const float h = static_cast<float>(c.hidden_size);
  *mean = 0.0f;
  switch (spec.role) {
    case TensorRole::kNorm: *mean = 1.0f; *sigma = 0.1f; return;
    case TensorRole::kEmbedding:
      *sigma = spec.name.find("embed_tokens") != std::string::npos ? 1.0f : 2.0f / std::sqrt(h);
      return;
    case TensorRole::kRouter: *sigma = 1.5f / std::sqrt(h); return;
    case TensorRole::kRouterBias: *sigma = 0.05f; return;
    case TensorRole::kLinear:
    case TensorRole::kProjection:
      *sigma = 1.0f / std::sqrt(static_cast<float>(spec.shape.back()));
      return;
  }
}

// Block scales: sigma / kCodeScale, varied per block by up to ±25 %; powers of two for UE8M0.
std::vector<float> make_scales(const TensorSpec& spec, const ModelConfig& c, bool ue8m0, uint64_t& state) {
  float mean, sigma;
  role_distribution(spec, c, &mean, &sigma);
  const uint64_t n = scale_count(spec.shape[0], spec.shape[1], static_cast<uint32_t>(c.weight_block_rows),
                                 static_cast<uint32_t>(c.weight_block_cols));
  std::vector<float> scales(n);
  for (auto& s : scales) {
    const float jitter = 0.8f + 0.45f * static_cast<float>(splitmix64(state) >> 40) / 16777216.0f;
    s = sigma / kCodeScale * jitter;
    if (ue8m0) s = std::exp2(std::round(std::log2(s)));
  }
  return scales;
}

class Synthesizer {
 public:
  Synthesizer(const ModelConfig& c, const SynthOptions& o) : c_(c), o_(o) {}
  Status write_tensor(ContainerWriter& w, const TensorSpec& spec, ProgressBar& bar);
  Status write_expert(ContainerWriter& w, const std::array<const TensorSpec*, 3>& parts, ProgressBar& bar);

 private:
  uint64_t seed_for(const TensorSpec& spec) const {
    // The MTP layer's embedding and head are copies of the main ones, as in the real model.
    std::string name = spec.name;
    if (name.find(".embed_tokens.weight") != std::string::npos) name = "model.embed_tokens.weight";
    if (name.find(".shared_head.head.weight") != std::string::npos) name = "lm_head.weight";
    return name_seed(name, o_.seed);
  }
  bool fp8() const { return c_.quant_method == "fp8"; }

  const ModelConfig& c_;
  const SynthOptions& o_;
  std::vector<uint8_t> chunk_;
  AlignedBuffer blob_;
};

Status Synthesizer::write_tensor(ContainerWriter& w, const TensorSpec& spec, ProgressBar& bar) {
  uint64_t state = seed_for(spec);
  const DType dtype = spec.checkpoint_dtype(fp8());
  uint64_t numel = 1;
  for (int64_t d : spec.shape) numel *= static_cast<uint64_t>(d);
  TensorRecord rec;
  rec.name = spec.name;
  rec.dtype = dtype;
  rec.shape = spec.shape;
  rec.size = numel * dtype_size(dtype);
  rec.block_rows = static_cast<uint32_t>(c_.weight_block_rows);
  rec.block_cols = static_cast<uint32_t>(c_.weight_block_cols);
  std::vector<float> scales;
  std::vector<uint8_t> ue8m0;
  if (dtype == DType::kF8E4M3) {
    uint64_t scale_state = state ^ 0x5ca1e;
    scales = make_scales(spec, c_, o_.ue8m0, scale_state);
    rec.scale_format = o_.ue8m0 ? ScaleFormat::kUE8M0 : ScaleFormat::kF32;
    if (o_.ue8m0) {
      for (float s : scales) ue8m0.push_back(f32_to_ue8m0_exact(s));
      rec.scale_size = ue8m0.size();
    } else {
      rec.scale_size = scales.size() * 4;
    }
  }
  MOESTREAM_TRY(w.begin_tensor(rec));
  float mean, sigma;
  role_distribution(spec, c_, &mean, &sigma);
  const uint64_t per_chunk = kChunkBytes / dtype_size(dtype);
  for (uint64_t done = 0; done < numel; done += per_chunk) {
    const uint64_t n = std::min(per_chunk, numel - done);
    chunk_.resize(n * dtype_size(dtype));
    if (dtype == DType::kF8E4M3) {
      fill_fp8(chunk_.data(), n, state);
    } else if (dtype == DType::kF32) {
      auto* f = reinterpret_cast<float*>(chunk_.data());
      for (uint64_t i = 0; i < n; ++i) {
        f[i] = mean + sigma * tables().normal[splitmix64(state) & 0xffff];
        // Group structure: alternate groups get a small bias offset, so group choice matters.
        if (spec.role == TensorRole::kRouterBias) {
          const uint64_t group = (done + i) / static_cast<uint64_t>(c_.n_routed_experts / c_.n_group);
          f[i] += (group % 2 == 0) ? 0.02f : -0.02f;
        }
      }
    } else {
      fill_bf16(reinterpret_cast<uint16_t*>(chunk_.data()), n, mean, sigma, state);
    }
    MOESTREAM_TRY(w.append_tensor_data(chunk_.data(), chunk_.size()));
    bar.advance(chunk_.size());
  }
  const void* scale_data = o_.ue8m0 ? static_cast<const void*>(ue8m0.data()) : scales.data();
  MOESTREAM_TRY(w.end_tensor(scale_data, rec.scale_size));
  bar.advance(rec.scale_size);
  return ok_status();
}

Status Synthesizer::write_expert(ContainerWriter& w, const std::array<const TensorSpec*, 3>& parts,
                                 ProgressBar& bar) {
  std::array<ExpertPartLayout, 3> lp;
  for (int p = 0; p < 3; ++p) {
    lp[p].dtype = parts[p]->checkpoint_dtype(fp8());
    lp[p].rows = parts[p]->shape[0];
    lp[p].cols = parts[p]->shape[1];
    lp[p].block_rows = static_cast<uint32_t>(c_.weight_block_rows);
    lp[p].block_cols = static_cast<uint32_t>(c_.weight_block_cols);
    lp[p].scale_format = lp[p].dtype != DType::kF8E4M3 ? ScaleFormat::kNone
                         : o_.ue8m0                    ? ScaleFormat::kUE8M0
                                                       : ScaleFormat::kF32;
  }
  const ExpertBlobLayout layout = layout_expert_blob(lp);
  if (blob_.size() != layout.raw_size) {
    MOESTREAM_ASSIGN_OR_RETURN(blob_, AlignedBuffer::allocate(layout.raw_size, kPageSize, false, true));
  }
  for (int p = 0; p < 3; ++p) {
    const ExpertPartLayout& part = layout.parts[p];
    uint64_t state = seed_for(*parts[p]);
    const uint64_t numel = static_cast<uint64_t>(part.rows * part.cols);
    if (part.dtype == DType::kF8E4M3) {
      fill_fp8(blob_.data() + part.data_offset, numel, state);
      uint64_t scale_state = state ^ 0x5ca1e;
      std::vector<float> scales = make_scales(*parts[p], c_, o_.ue8m0, scale_state);
      uint8_t* out = blob_.data() + part.scale_offset;
      for (size_t i = 0; i < scales.size(); ++i) {
        if (o_.ue8m0) {
          out[i] = f32_to_ue8m0_exact(scales[i]);
        } else {
          std::memcpy(out + 4 * i, &scales[i], 4);
        }
      }
    } else {
      float mean, sigma;
      role_distribution(*parts[p], c_, &mean, &sigma);
      fill_bf16(reinterpret_cast<uint16_t*>(blob_.data() + part.data_offset), numel, mean, sigma, state);
    }
  }
  MOESTREAM_TRY(w.add_expert(parts[0]->layer, parts[0]->expert, layout, blob_.data()));
  bar.advance(layout.parts[0].data_size + layout.parts[1].data_size + layout.parts[2].data_size +
              layout.parts[0].scale_size + layout.parts[1].scale_size + layout.parts[2].scale_size);
  return ok_status();
}

}  // namespace

Result<ModelConfig> synth_preset_config(const SynthOptions& o) {
  ModelConfig c;
  c.rope_scaling_type = "yarn";
  c.rope_factor = 40;
  c.rope_original_max_position_embeddings = 4096;
  c.max_position_embeddings = 163840;
  c.routed_scaling_factor = 2.5;
  c.quant_method = "fp8";
  c.num_nextn_predict_layers = 1;
  c.n_shared_experts = 1;
  c.num_experts_per_tok = 8;
  c.n_group = 8;
  c.topk_group = 4;
  if (o.preset == "tiny") {  // golden config A
    c.vocab_size = 2048; c.hidden_size = 256; c.intermediate_size = 512; c.moe_intermediate_size = 128;
    c.num_hidden_layers = 3; c.first_k_dense_replace = 1; c.num_attention_heads = 4;
    c.q_lora_rank = 128; c.kv_lora_rank = 128; c.qk_nope_head_dim = 32; c.qk_rope_head_dim = 16;
    c.v_head_dim = 32; c.n_routed_experts = 32;
  } else if (o.preset == "small") {  // real vocabulary, many small experts, a few hundred MB
    c.vocab_size = 129280; c.hidden_size = 256; c.intermediate_size = 1024; c.moe_intermediate_size = 512;
    c.num_hidden_layers = 6; c.first_k_dense_replace = 1; c.num_attention_heads = 8;
    c.q_lora_rank = 256; c.kv_lora_rank = 128; c.qk_nope_head_dim = 32; c.qk_rope_head_dim = 16;
    c.v_head_dim = 32; c.n_routed_experts = 64;
  } else if (o.preset == "mini") {  // real vocabulary, the smallest shapes: chat and server tests
    c.vocab_size = 129280; c.hidden_size = 64; c.intermediate_size = 128; c.moe_intermediate_size = 64;
    c.num_hidden_layers = 2; c.first_k_dense_replace = 1; c.num_attention_heads = 2;
    c.q_lora_rank = 64; c.kv_lora_rank = 64; c.qk_nope_head_dim = 16; c.qk_rope_head_dim = 16;
    c.v_head_dim = 16; c.n_routed_experts = 16;
  } else if (o.preset == "full") {  // DeepSeek-V3 671B widths
    c.vocab_size = 129280; c.hidden_size = 7168; c.intermediate_size = 18432; c.moe_intermediate_size = 2048;
    c.num_hidden_layers = 61; c.first_k_dense_replace = 3; c.num_attention_heads = 128;
    c.q_lora_rank = 1536; c.kv_lora_rank = 512; c.qk_nope_head_dim = 128; c.qk_rope_head_dim = 64;
    c.v_head_dim = 128; c.n_routed_experts = 256;
  } else {
    return invalid_argument("--preset must be tiny, mini, small or full, not \"" + o.preset + "\"");
  }
  if (o.ue8m0) c.scale_fmt = "ue8m0";
  if (o.layers != -1) {
    if (o.layers < 1 || o.layers > 256) return invalid_argument("--layers must be in 1..256");
    c.num_hidden_layers = o.layers;
    c.first_k_dense_replace = std::min(c.first_k_dense_replace, o.layers - 1);
  }
  if (o.experts != -1) {
    if (o.experts < 1 || o.experts > 4096) return invalid_argument("--experts must be in 1..4096");
    c.n_routed_experts = o.experts;
    c.n_group = 1;
    for (int64_t g = std::min<int64_t>(8, o.experts); g >= 1; --g) {
      if (o.experts % g == 0) {
        c.n_group = g;
        break;
      }
    }
    c.topk_group = std::max<int64_t>(1, std::min<int64_t>(4, c.n_group / 2));
    // The router picks top-k among the experts of the topk_group best groups, so k cannot be
    // more than those hold (--experts 3 or 8 used to write a container `run` refused).
    c.num_experts_per_tok = std::min<int64_t>(8, c.topk_group * (o.experts / c.n_group));
  }
  MOESTREAM_TRY(validate_model_config(c, "synth preset " + o.preset));
  return c;
}

uint64_t synth_model_bytes(const ModelConfig& c) {
  uint64_t total = 0;
  for (const TensorSpec& s : deepseek_v3_tensor_specs(c)) total += tensor_spec_bytes(s, c);
  return total;
}

Result<SynthSummary> synthesize_container(const SynthOptions& o, const std::string& out_path) {
  Stopwatch watch;
  MOESTREAM_ASSIGN_OR_RETURN(ModelConfig c, synth_preset_config(o));
  MOESTREAM_ASSIGN_OR_RETURN(auto writer, ContainerWriter::create(out_path, o.writer));
  ProgressBar bar("synth", synth_model_bytes(c), "B", o.progress);
  Synthesizer synth(c, o);
  const std::vector<TensorSpec> specs = deepseek_v3_tensor_specs(c);
  Status s;
  // Non-expert tensors first (they are mmapped and touched together), then the expert blobs.
  for (const TensorSpec& spec : specs) {
    if (spec.expert >= 0) continue;
    bar.set_detail(spec.name);
    s = synth.write_tensor(*writer, spec, bar);
    if (!s.ok()) break;
  }
  for (size_t i = 0; s.ok() && i < specs.size(); ++i) {
    if (specs[i].expert < 0 || specs[i].expert_part != 0) continue;
    bar.set_detail("layer " + std::to_string(specs[i].layer) + " expert " + std::to_string(specs[i].expert));
    s = synth.write_expert(*writer, {&specs[i], &specs[i + 1], &specs[i + 2]}, bar);
  }
  if (s.ok()) {
    ContainerMetadata md;
    md.config = c;
    md.config_json = model_config_to_json(c);
    // The built-in tokenizer, cut to the vocabulary when it is smaller (tiny: 2,048 ids), so a
    // text prompt never yields an id the model cannot embed.
    auto tokenizer = embedded_tokenizer_for_vocab(c.vocab_size);
    if (tokenizer.ok()) {
      md.tokenizer_json = std::move(tokenizer->tokenizer_json);
      md.tokenizer_config_json = std::move(tokenizer->tokenizer_config_json);
    } else {
      s = tokenizer.status();
    }
    md.tool = "moestream synth";
    md.source = "preset " + o.preset;
    md.command_line = o.command_line;
    md.notes = "random weights (seed " + std::to_string(o.seed) + "); not a trained model";
    if (s.ok()) s = writer->finish(md);
  }
  if (!s.ok()) {
    writer->abandon();
    return s;
  }
  SynthSummary summary;
  summary.config = c;
  summary.stats = writer->stats();
  summary.seconds = watch.elapsed_seconds();
  return summary;
}

}  // namespace moestream
