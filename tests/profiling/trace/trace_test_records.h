// Records with every field set, for the .mstrace tests.
#pragma once

#include <cmath>

#include "profiling/trace/trace_format.h"

namespace moestream::trace::test_records {

inline TraceHeader small_header() {
  TraceHeader h;
  h.num_moe_layers = 3;
  h.first_moe_layer = 3;
  h.experts_per_layer = 16;
  h.top_k = 4;
  h.num_candidates = 2;
  h.num_pregate = 5;
  h.expert_bytes = 44'050'944;
  h.model_name = "tiny-test";
  return h;
}

inline TraceRecord record_for(const TraceHeader& h, uint32_t i) {
  TraceRecord r;
  r.sequence = i / 30;
  r.token = (i / h.num_moe_layers) % 10;
  r.layer = static_cast<uint16_t>(i % h.num_moe_layers);
  r.phase = r.token < 4 ? Phase::kPrefill : Phase::kDecode;
  for (uint32_t j = 0; j < h.top_k; ++j)
    r.chosen.push_back({static_cast<uint16_t>((i + 3 * j) % h.experts_per_layer),
                        0.5f / static_cast<float>(j + 1), static_cast<ExpertOutcome>((i + j) % 4),
                        (i * 7 + j) % 1000});
  for (uint32_t j = 0; j < h.num_candidates; ++j)
    r.candidates.push_back({static_cast<uint16_t>((i + 13 + j) % h.experts_per_layer), 0.01f * j});
  for (uint32_t j = 0; j < h.num_pregate; ++j)
    r.pregate.push_back({static_cast<uint16_t>((i + 5 * j) % h.experts_per_layer), 0.1f * j});
  r.prefetch_wasted = static_cast<uint16_t>(i % 3);
  return r;
}

}  // namespace moestream::trace::test_records
