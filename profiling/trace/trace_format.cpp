#include "profiling/trace/trace_format.h"

#include <string>

namespace moestream::trace {

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::kPrefill: return "prefill";
    case Phase::kDecode: return "decode";
  }
  return "unknown";
}

const char* outcome_name(ExpertOutcome outcome) {
  switch (outcome) {
    case ExpertOutcome::kHit: return "hit";
    case ExpertOutcome::kPrefetchHit: return "prefetch_hit";
    case ExpertOutcome::kPrefetchLate: return "prefetch_late";
    case ExpertOutcome::kMiss: return "miss";
    case ExpertOutcome::kUnknown: return "unknown";
  }
  return "invalid";
}

size_t TraceHeader::record_bytes() const {
  // sequence u32, token u32, layer u16, phase u8, reserved u8 | k x (u16, f32, u8, u32)
  // | (candidates + pregate) x (u16, f32) | prefetch_wasted u16
  return 12 + 11 * size_t{top_k} + 6 * (size_t{num_candidates} + num_pregate) + 2;
}

Status TraceHeader::validate() const {
  auto bad = [](const std::string& what) { return invalid_argument("trace header: " + what); };
  if (num_moe_layers == 0 || num_moe_layers > kMaxLayers)
    return bad("num_moe_layers " + std::to_string(num_moe_layers) + " is outside 1.." +
               std::to_string(kMaxLayers));
  if (experts_per_layer == 0 || experts_per_layer > kMaxExperts)
    return bad("experts_per_layer " + std::to_string(experts_per_layer) + " is outside 1.." +
               std::to_string(kMaxExperts));
  if (top_k == 0 || top_k > experts_per_layer)
    return bad("top_k " + std::to_string(top_k) + " must be in 1..experts_per_layer (" +
               std::to_string(experts_per_layer) + ")");
  if (num_candidates > kMaxListWidth || num_pregate > kMaxListWidth)
    return bad("num_candidates/num_pregate must be at most " + std::to_string(kMaxListWidth));
  if (model_name.size() > kMaxModelNameBytes)
    return bad("model name longer than " + std::to_string(kMaxModelNameBytes) + " bytes");
  return ok_status();
}

Status validate_record(const TraceHeader& header, const TraceRecord& record) {
  auto where = [&] {
    return "record (sequence " + std::to_string(record.sequence) + ", token " +
           std::to_string(record.token) + ", layer " + std::to_string(record.layer) + "): ";
  };
  if (record.layer >= header.num_moe_layers)
    return invalid_argument(where() + "layer is not below num_moe_layers " +
                            std::to_string(header.num_moe_layers));
  if (record.phase != Phase::kPrefill && record.phase != Phase::kDecode)
    return invalid_argument(where() + "phase must be prefill or decode");
  auto check_width = [&](size_t got, uint32_t want, const char* name) -> Status {
    if (got == want) return ok_status();
    return invalid_argument(where() + name + " has " + std::to_string(got) +
                            " entries, the header says " + std::to_string(want));
  };
  MOESTREAM_TRY(check_width(record.chosen.size(), header.top_k, "chosen"));
  MOESTREAM_TRY(check_width(record.candidates.size(), header.num_candidates, "candidates"));
  MOESTREAM_TRY(check_width(record.pregate.size(), header.num_pregate, "pregate"));
  auto check_id = [&](uint16_t id, const char* name) -> Status {
    if (id < header.experts_per_layer) return ok_status();
    return invalid_argument(where() + name + " expert " + std::to_string(id) +
                            " is not below experts_per_layer " +
                            std::to_string(header.experts_per_layer));
  };
  for (const auto& c : record.chosen) {
    MOESTREAM_TRY(check_id(c.expert, "chosen"));
    auto o = static_cast<uint8_t>(c.outcome);
    if (o > static_cast<uint8_t>(ExpertOutcome::kMiss) && c.outcome != ExpertOutcome::kUnknown)
      return invalid_argument(where() + "unknown expert outcome code " + std::to_string(o));
  }
  for (size_t i = 0; i < record.chosen.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (record.chosen[i].expert == record.chosen[j].expert)
        return invalid_argument(where() + "expert " + std::to_string(record.chosen[i].expert) +
                                " is chosen twice");
  for (const auto& c : record.candidates) MOESTREAM_TRY(check_id(c.expert, "candidate"));
  for (const auto& c : record.pregate) MOESTREAM_TRY(check_id(c.expert, "pregate"));
  return ok_status();
}

}  // namespace moestream::trace
