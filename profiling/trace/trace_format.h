// The .mstrace expert-routing trace: what `moestream profile` records per token and MoE
// layer (chosen experts with router scores, the next candidates, the prefetcher's guess,
// hit/miss, prefetch outcome, load latency). The byte layout is in docs/trace-format.md;
// this header holds the in-memory shapes and the constants of that layout.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "platform/status.h"

namespace moestream::trace {

inline constexpr std::array<char, 8> kFileMagic = {'M', 'S', 'T', 'R', 'A', 'C', 'E', '\0'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kChunkMagic = 0x4B4E4843;  // "CHNK" little-endian
inline constexpr uint32_t kEndMagic = 0x444E4554;    // "TEND" little-endian
inline constexpr size_t kFixedHeaderBytes = 48;      // everything before the model name
inline constexpr size_t kChunkHeaderBytes = 24;
inline constexpr size_t kEndMarkerBytes = 24;
// Hard limits that keep a corrupt header from asking for absurd allocations.
inline constexpr uint32_t kMaxExperts = 65535;
inline constexpr uint32_t kMaxLayers = 4096;
inline constexpr uint32_t kMaxListWidth = 1024;
inline constexpr uint32_t kMaxModelNameBytes = 4096;

enum class Phase : uint8_t { kPrefill = 0, kDecode = 1 };

// What happened to one chosen expert when the layer ran.
enum class ExpertOutcome : uint8_t {
  kHit = 0,           // resident before the layer needed it (not a prefetch of this step)
  kPrefetchHit = 1,   // brought in by the prefetcher and complete in time
  kPrefetchLate = 2,  // prefetched, but still in flight: the layer waited for the rest
  kMiss = 3,          // demand load on the critical path
  kUnknown = 255,     // not recorded (e.g. a trace imported from IDs only)
};

const char* phase_name(Phase phase);
const char* outcome_name(ExpertOutcome outcome);

struct TraceHeader {
  uint32_t num_moe_layers = 0;
  uint32_t first_moe_layer = 0;     // model layer index of MoE layer 0 (3 for DeepSeek-V3)
  uint32_t experts_per_layer = 0;   // routed experts N
  uint32_t top_k = 0;               // experts chosen per token and layer
  uint32_t num_candidates = 0;      // router ranks k+1 .. k+num_candidates kept per record
  uint32_t num_pregate = 0;         // prefetcher guesses kept per record (0: no prefetcher)
  uint64_t expert_bytes = 0;        // bytes read to load one expert (0: unknown)
  std::string model_name;

  // Bytes of one uncompressed record for this shape.
  size_t record_bytes() const;
  // kInvalidArgument/kCorrupt naming the field when a value is out of range.
  Status validate() const;
};

struct ScoredExpert {
  uint16_t expert = 0;
  float score = 0.0f;  // router score (sigmoid affinity); NaN when not recorded
  bool operator==(const ScoredExpert&) const = default;
};

struct ChosenExpert {
  uint16_t expert = 0;
  float score = 0.0f;
  ExpertOutcome outcome = ExpertOutcome::kUnknown;
  uint32_t load_us = 0;  // time the layer waited for this expert, microseconds (0 on a hit)
  bool operator==(const ChosenExpert&) const = default;
};

// One (token, MoE layer) step.
struct TraceRecord {
  uint32_t sequence = 0;  // request / prompt number
  uint32_t token = 0;     // position within the sequence
  uint16_t layer = 0;     // MoE layer index, 0-based
  Phase phase = Phase::kDecode;
  std::vector<ChosenExpert> chosen;        // top_k entries, router order
  std::vector<ScoredExpert> candidates;    // num_candidates entries, best first
  std::vector<ScoredExpert> pregate;       // num_pregate entries: prefetcher's guess, best first
  uint16_t prefetch_wasted = 0;            // experts prefetched for this step and not used

  bool operator==(const TraceRecord&) const = default;
};

// Checks a record against the header's shape; the message names the offending field.
Status validate_record(const TraceHeader& header, const TraceRecord& record);

}  // namespace moestream::trace
