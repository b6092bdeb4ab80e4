#include "runtime/engine/touched_weights.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "format/moestream_generated.h"
#include "platform/page_release.h"

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

uint64_t TouchedWeights::bytes(int64_t tokens, bool with_mtp) const {
  const uint64_t rows = std::min(embedding, embedding_row * static_cast<uint64_t>(std::max<int64_t>(tokens, 1)));
  return every_step + rows + (with_mtp ? mtp : 0);
}

TouchedWeights touched_weights(const ContainerReader& reader) {
  const ModelConfig& c = reader.config();
  TouchedWeights w;
  for (const fb::Tensor* t : *reader.header().tensors()) {
    const uint64_t bytes = t->size() + t->scale_size();
    switch (tensor_use(t->name()->string_view(), c)) {
      case TensorUse::kEveryStep: w.every_step += bytes; break;
      case TensorUse::kEmbeddingRows:
        w.embedding += bytes;
        w.embedding_row = c.vocab_size > 0 ? (bytes + c.vocab_size - 1) / c.vocab_size : bytes;
        break;
      case TensorUse::kMtp: w.mtp += bytes; break;
    }
  }
  return w;
}

void release_untouched_tensors(const ContainerReader& reader, bool keep_mtp) {
  const ModelConfig& c = reader.config();
  for (const fb::Tensor* t : *reader.header().tensors()) {
    const TensorUse use = tensor_use(t->name()->string_view(), c);
    if (use == TensorUse::kEveryStep || (use == TensorUse::kMtp && keep_mtp)) continue;
    release_mapped_range(reader.file(), t->offset(), t->size());
    if (t->scale_size()) release_mapped_range(reader.file(), t->scale_offset(), t->scale_size());
  }
}

}  // namespace moestream
