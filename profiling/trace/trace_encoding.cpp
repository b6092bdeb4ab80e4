#include "profiling/trace/trace_encoding.h"

#include <xxhash.h>

namespace moestream::trace {

uint64_t trace_checksum(const void* data, size_t size) { return XXH3_64bits(data, size); }

std::string encode_header(const TraceHeader& header) {
  std::string out(kFileMagic.data(), kFileMagic.size());
  put<uint32_t>(&out, kFormatVersion);
  put<uint32_t>(&out, static_cast<uint32_t>(kFixedHeaderBytes + header.model_name.size()));
  put<uint32_t>(&out, header.num_moe_layers);
  put<uint32_t>(&out, header.first_moe_layer);
  put<uint32_t>(&out, header.experts_per_layer);
  put<uint32_t>(&out, header.top_k);
  put<uint32_t>(&out, header.num_candidates);
  put<uint32_t>(&out, header.num_pregate);
  put<uint64_t>(&out, header.expert_bytes);
  out += header.model_name;
  put<uint64_t>(&out, trace_checksum(out.data(), out.size()));
  return out;
}

void encode_record(const TraceHeader& header, const TraceRecord& record, std::string* out) {
  (void)header;  // the widths are already checked against it by validate_record()
  put<uint32_t>(out, record.sequence);
  put<uint32_t>(out, record.token);
  put<uint16_t>(out, record.layer);
  put<uint8_t>(out, static_cast<uint8_t>(record.phase));
  put<uint8_t>(out, 0);
  for (const auto& c : record.chosen) {
    put<uint16_t>(out, c.expert);
    put<float>(out, c.score);
    put<uint8_t>(out, static_cast<uint8_t>(c.outcome));
    put<uint32_t>(out, c.load_us);
  }
  for (const auto& c : record.candidates) {
    put<uint16_t>(out, c.expert);
    put<float>(out, c.score);
  }
  for (const auto& c : record.pregate) {
    put<uint16_t>(out, c.expert);
    put<float>(out, c.score);
  }
  put<uint16_t>(out, record.prefetch_wasted);
}

void decode_record(const TraceHeader& header, const uint8_t* p, TraceRecord* record) {
  record->sequence = get<uint32_t>(p);
  record->token = get<uint32_t>(p + 4);
  record->layer = get<uint16_t>(p + 8);
  record->phase = static_cast<Phase>(p[10]);
  p += 12;
  record->chosen.resize(header.top_k);
  for (auto& c : record->chosen) {
    c.expert = get<uint16_t>(p);
    c.score = get<float>(p + 2);
    c.outcome = static_cast<ExpertOutcome>(p[6]);
    c.load_us = get<uint32_t>(p + 7);
    p += 11;
  }
  auto scored = [&](std::vector<ScoredExpert>* list, uint32_t width) {
    list->resize(width);
    for (auto& c : *list) {
      c.expert = get<uint16_t>(p);
      c.score = get<float>(p + 2);
      p += 6;
    }
  };
  scored(&record->candidates, header.num_candidates);
  scored(&record->pregate, header.num_pregate);
  record->prefetch_wasted = get<uint16_t>(p);
}

}  // namespace moestream::trace
