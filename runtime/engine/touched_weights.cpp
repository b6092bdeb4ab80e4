#include "runtime/engine/touched_weights.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "format/model_tensors.h"
#include "format/moestream_generated.h"

namespace moestream {
namespace {

constexpr std::string_view kLayerPrefix = "model.layers.";

// The layer index of "model.layers.N.*", or -1.
int64_t layer_of(std::string_view name) {
  if (name.substr(0, kLayerPrefix.size()) != kLayerPrefix) return -1;
  name.remove_prefix(kLayerPrefix.size());
  int64_t layer = -1;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), layer);
  return ec == std::errc() && end != name.data() + name.size() && *end == '.' ? layer : -1;
}

}  // namespace

TensorUse tensor_use(std::string_view name, const ModelConfig& config) {
  if (layer_of(name) >= config.num_hidden_layers) return TensorUse::kMtp;
  // A tied head is the embedding table read whole every step.
  if (name == "model.embed_tokens.weight" && !config.tie_word_embeddings) return TensorUse::kEmbeddingRows;
  return TensorUse::kEveryStep;
}

uint64_t TouchedWeights::bytes(bool with_mtp) const {
  // The engine hands the table's pages back as each row is read (Model::
  // set_embedding_release): what is mapped at once is one row and the 64 KiB windows the
  // kernel maps around it. Without a release hook, it would be a page per token.
  constexpr uint64_t kWindow = 64 * 1024;
  const uint64_t rows = std::min(embedding, (embedding_row + kWindow - 1) / kWindow * kWindow + kWindow);
  return every_step + rows + (with_mtp ? mtp : 0);
}

namespace {

// Counts one tensor of `bytes` (scales included) where its use puts it.
void count_tensor(std::string_view name, uint64_t bytes, const ModelConfig& c, TouchedWeights& w) {
  switch (tensor_use(name, c)) {
    case TensorUse::kEveryStep: {
      w.every_step += bytes;
      const int64_t layer = layer_of(name);
      if (name.find(".self_attn.") != std::string_view::npos) {
        w.attention += bytes;
      } else if (layer >= 0 && name.find(".mlp.") != std::string_view::npos) {
        (layer < c.first_k_dense_replace ? w.dense_ffn : w.moe_shared) += bytes;
      } else if (name.find("lm_head") != std::string_view::npos || name == "model.norm.weight" ||
                 (c.tie_word_embeddings && name == "model.embed_tokens.weight")) {
        w.head += bytes;
      } else {
        w.other += bytes;
      }
      break;
    }
    case TensorUse::kEmbeddingRows:
      w.embedding += bytes;
      w.embedding_row = c.vocab_size > 0 ? (bytes + c.vocab_size - 1) / c.vocab_size : bytes;
      break;
    case TensorUse::kMtp: w.mtp += bytes; break;
  }
}

}  // namespace

TouchedWeights touched_weights(const ContainerReader& reader) {
  TouchedWeights w;
  for (const fb::Tensor* t : *reader.header().tensors()) {
    count_tensor(t->name()->string_view(), t->size() + t->scale_size(), reader.config(), w);
  }
  return w;
}

TouchedWeights touched_weights(const ModelConfig& c) {
  TouchedWeights w;
  for (const TensorSpec& spec : deepseek_v3_tensor_specs(c)) {
    if (spec.expert >= 0) continue;  // routed experts are the cache's
    count_tensor(spec.name, tensor_spec_bytes(spec, c), c, w);
  }
  return w;
}

uint64_t routed_expert_bytes(const ModelConfig& c) {
  uint64_t bytes = 0;
  for (const TensorSpec& spec : deepseek_v3_tensor_specs(c)) {
    if (spec.expert == 0 && spec.layer == c.first_k_dense_replace) bytes += tensor_spec_bytes(spec, c);
  }
  return bytes;
}

bool keep_mapped_after_check(std::string_view name, const ModelConfig& config, bool mtp_runs) {
  const TensorUse use = tensor_use(name, config);
  return use == TensorUse::kEveryStep || (use == TensorUse::kMtp && mtp_runs);
}

}  // namespace moestream
