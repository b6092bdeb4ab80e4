// Which non-expert tensors a run actually touches, so the budget plan counts those and not the
// whole file: every tensor of the main layers and the output head on every step; the
// embedding table only at the rows of the tokens it reads; the MTP layer (with its own copies
// of the embedding and the head, 4 GB of DeepSeek-V3's 671B) only when it runs (`logits
// --mtp-out`, speculation). After the load-time checksum pass has read every tensor, the
// pages of those not kept are handed back, so RSS is what the plan counted.
#pragma once

#include <cstdint>
#include <string_view>

#include "format/container_reader.h"

namespace moestream {

enum class TensorUse { kEveryStep, kEmbeddingRows, kMtp };

TensorUse tensor_use(std::string_view name, const ModelConfig& config);

struct TouchedWeights {
  uint64_t every_step = 0;     // bytes read by every step
  uint64_t embedding = 0;      // the whole embedding table
  uint64_t embedding_row = 0;  // one token's row of it
  uint64_t mtp = 0;            // the MTP layer's tensors
  // Bytes a run of `tokens` tokens in all touches (a row per token at most), the MTP layer
  // included when `mtp`.
  uint64_t bytes(int64_t tokens, bool with_mtp) const;
};

TouchedWeights touched_weights(const ContainerReader& reader);

// Drops this process's mapping of the embedding table and (unless `keep_mtp`) the MTP layer:
// the rows a step reads come back on their own, from the page cache.
void release_untouched_tensors(const ContainerReader& reader, bool keep_mtp);

}  // namespace moestream
