// The replay input of the cache simulator: which experts each (token, MoE layer) step
// chose, in token-major order, plus what the trace knows beyond IDs (phases, the recorded
// prefetcher guesses). Both .mstrace files and the routing CSVs load into this.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/status.h"

namespace moestream::cachesim {

inline constexpr uint8_t kPhasePrefill = 0;  // same codes as trace::Phase
inline constexpr uint8_t kPhaseDecode = 1;

struct RoutingTrace {
  uint32_t num_layers = 0;
  uint32_t num_experts = 0;
  uint32_t top_k = 0;
  uint64_t expert_bytes = 0;               // from an .mstrace header; 0 when unknown
  std::vector<uint32_t> layer_labels;      // model-facing id of each layer index, for display

  // Per step, in replay order. A step's experts are experts[s * top_k, (s + 1) * top_k).
  std::vector<uint16_t> step_layer;
  std::vector<uint32_t> step_token;        // global token number, non-decreasing
  std::vector<uint16_t> experts;

  // Per token.
  std::vector<uint32_t> token_sequence;    // sequence (prompt / request) number, 0-based
  std::vector<uint8_t> token_phase;        // kPhasePrefill / kPhaseDecode
  bool has_phase = false;                  // false: phases were not recorded (CSV traces)
  uint32_t num_sequences = 0;

  // Recorded prefetcher guesses (pre-gating), pregate_width per step, best first; empty
  // when the trace has no router scores (CSV traces carry IDs only).
  uint32_t pregate_width = 0;
  std::vector<uint16_t> pregate;

  std::vector<std::string> sources;        // files it came from

  size_t num_steps() const { return step_layer.size(); }
  size_t num_tokens() const { return token_sequence.size(); }
  uint64_t num_accesses() const { return uint64_t{num_steps()} * top_k; }
  const uint16_t* step_experts(size_t s) const { return experts.data() + s * top_k; }

  // Checks shape and ranges (ids below num_experts, layers below num_layers, sizes agree).
  Status validate() const;
};

// First step of each token (size num_tokens() + 1, last entry = num_steps()).
std::vector<size_t> token_step_offsets(const RoutingTrace& trace);
// First token of each sequence (size num_sequences + 1).
std::vector<uint32_t> sequence_token_offsets(const RoutingTrace& trace);

}  // namespace moestream::cachesim
