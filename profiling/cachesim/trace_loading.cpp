#include "profiling/cachesim/trace_loading.h"

#include <cstring>
#include <fstream>

#include "profiling/trace/trace_reader.h"

namespace moestream::cachesim {

bool looks_like_mstrace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, sizeof(magic));
  return in.gcount() == 8 && std::memcmp(magic, trace::kFileMagic.data(), 8) == 0;
}

Status append_mstrace(const std::string& path, RoutingTrace* trace) {
  MOESTREAM_ASSIGN_OR_RETURN(trace::TraceReader reader, trace::TraceReader::open(path));
  const trace::TraceHeader& h = reader.header();
  if (trace->num_layers == 0) {
    trace->num_layers = h.num_moe_layers;
    trace->num_experts = h.experts_per_layer;
    trace->top_k = h.top_k;
    trace->expert_bytes = h.expert_bytes;
    trace->pregate_width = h.num_pregate;
    trace->has_phase = true;
    trace->layer_labels.resize(h.num_moe_layers);
    for (uint32_t l = 0; l < h.num_moe_layers; ++l) trace->layer_labels[l] = h.first_moe_layer + l;
  } else if (trace->num_layers != h.num_moe_layers || trace->num_experts != h.experts_per_layer ||
             trace->top_k != h.top_k || trace->pregate_width != h.num_pregate ||
             !trace->has_phase) {
    return invalid_argument(path + ": its model shape (layers, experts, k, pregate width) or "
                            "format differs from the traces before it; replay them separately");
  }
  trace::TraceRecord record;
  bool first = true;
  uint32_t last_sequence = 0;
  uint32_t last_token = 0;
  while (true) {
    MOESTREAM_ASSIGN_OR_RETURN(bool more, reader.next(&record));
    if (!more) break;
    if (first || record.sequence != last_sequence) {
      trace->num_sequences++;
    }
    if (first || record.sequence != last_sequence || record.token != last_token) {
      trace->token_sequence.push_back(trace->num_sequences - 1);
      trace->token_phase.push_back(static_cast<uint8_t>(record.phase));
    }
    first = false;
    last_sequence = record.sequence;
    last_token = record.token;
    trace->step_layer.push_back(record.layer);
    trace->step_token.push_back(static_cast<uint32_t>(trace->num_tokens() - 1));
    for (const auto& c : record.chosen) trace->experts.push_back(c.expert);
    for (const auto& c : record.pregate) trace->pregate.push_back(c.expert);
  }
  trace->sources.push_back(path);
  return ok_status();
}

Result<RoutingTrace> load_routing_traces(const std::vector<std::string>& paths,
                                         const RoutingCsvOptions& csv_options) {
  if (paths.empty()) return invalid_argument("no trace files given");
  RoutingTrace trace;
  bool csv_seen = false;
  bool mstrace_seen = false;
  for (const auto& path : paths) {
    if (looks_like_mstrace(path)) {
      if (csv_seen) return invalid_argument(path + ": cannot mix .mstrace and CSV traces");
      mstrace_seen = true;
      MOESTREAM_TRY(append_mstrace(path, &trace));
    } else {
      if (mstrace_seen) return invalid_argument(path + ": cannot mix .mstrace and CSV traces");
      csv_seen = true;
      MOESTREAM_TRY(append_routing_csv(path, csv_options, &trace));
    }
  }
  Status valid = trace.validate();
  if (!valid.ok()) return valid;
  return trace;
}

}  // namespace moestream::cachesim
