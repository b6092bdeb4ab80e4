// Which non-expert tensors a run actually touches, so the budget plan counts those and not the
// whole file: every tensor of the main layers and the output head on every step; the
// embedding table a row at a time (its pages handed back after each lookup); the MTP layer (with its own copies
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
  // every_step by the operation that reads it (OpTimes' kinds): attention tensors, dense FFNs,
  // the MoE layers' router and shared experts, the output head (and final norm), the rest.
  uint64_t attention = 0, dense_ffn = 0, moe_shared = 0, head = 0, other = 0;
  // Bytes mapped at once by a run (the embedding rows are handed back as they are read), the
  // MTP layer included when `with_mtp`.
  uint64_t bytes(bool with_mtp) const;
};

TouchedWeights touched_weights(const ContainerReader& reader);
// The same for a model known only by its config (the built-in DeepSeek-V3 shape of `plan
// --project`): the tensor set of format/model_tensors.h at its checkpoint sizes.
TouchedWeights touched_weights(const ModelConfig& config);
// Bytes of one routed expert (gate, up and down with their scales) of such a model.
uint64_t routed_expert_bytes(const ModelConfig& config);

// Whether a tensor's pages stay mapped after the load-time checks read them: those read every
// step do; the embedding table (its rows come back as steps read them) and the MTP layer
// (unless it runs) are handed back.
bool keep_mapped_after_check(std::string_view name, const ModelConfig& config, bool mtp_runs);

}  // namespace moestream
