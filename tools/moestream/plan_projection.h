// `plan --project`: a decode speed projected for a model (a container, or the built-in
// DeepSeek-V3 671B shape) on a machine described by flags. The placement is the budget plan
// (resident weights, KV, scratch, overhead, expert slots); the expert-cache hit rate comes from
// replaying a routing trace through the cache simulator at the fraction of experts the slots
// hold (LRU, per layer), or from --hit-rate; the time per token from bytes and bandwidths:
//   I/O    = layers x top-k x (1 - hit rate) x expert bytes / NVMe bandwidth
//   memory = (non-expert bytes every step reads + layers x top-k x expert bytes) / memory bandwidth
// Today's engine keeps reads in flight through every layer but not through the output head
// (the next token's experts are unknown until it is sampled; `bench e2e` measures where the disk
// idles): max(I/O + head, memory), head = the output head's bytes / memory bandwidth. Also
// printed: the two adding up (an engine without overlap) and max(I/O, memory) (full overlap).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "offload/ram_budget.h"
#include "platform/status.h"

namespace moestream::cli {

struct MachineModel {
  double nvme_bytes_per_s = 0;
  double memory_bytes_per_s = 0;
};

struct DecodeProjection {
  RamBudgetPlan plan;
  int64_t moe_layers = 0, top_k = 0, experts_per_layer = 0;
  uint64_t expert_bytes = 0, every_step_bytes = 0;
  uint64_t head_bytes = 0;  // of every_step_bytes, the output head's (no read overlaps it)
  double cached_fraction = 0;  // slots / routed experts of the main layers
  double hit_rate = 0;
  std::string hit_source;
  double used_bytes() const;    // routed expert bytes a token computes with
  double missed_bytes() const;  // of those, read from the device
  double io_seconds(const MachineModel& m) const;
  double memory_seconds(const MachineModel& m) const;
  double head_seconds(const MachineModel& m) const;
  double engine_tokens_per_second(const MachineModel& m) const;  // max(I/O + head, memory)
  double serial_tokens_per_second(const MachineModel& m) const;
  double overlapped_tokens_per_second(const MachineModel& m) const;
};

// LRU per layer over the trace files (routing CSVs or .mstrace) with each layer caching the
// given fraction of its experts (at least one); the hit rate of the replay.
Result<double> trace_hit_rate(const std::vector<std::string>& trace_paths, double cached_fraction, std::string* source);

// The lines `plan --project` prints.
std::string describe_projection(const DecodeProjection& p, const MachineModel& m);

}  // namespace moestream::cli
