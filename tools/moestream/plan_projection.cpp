#include "plan_projection.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "platform/progress_bar.h"
#include "profiling/cachesim/simulator.h"
#include "profiling/cachesim/trace_loading.h"

namespace moestream::cli {

double DecodeProjection::used_bytes() const {
  return static_cast<double>(moe_layers * top_k) * static_cast<double>(expert_bytes);
}
double DecodeProjection::missed_bytes() const { return used_bytes() * (1.0 - hit_rate); }
double DecodeProjection::io_seconds(const MachineModel& m) const {
  return m.nvme_bytes_per_s > 0 ? missed_bytes() / m.nvme_bytes_per_s : 0;
}
double DecodeProjection::memory_seconds(const MachineModel& m) const {
  return m.memory_bytes_per_s > 0 ? (static_cast<double>(every_step_bytes) + used_bytes()) / m.memory_bytes_per_s : 0;
}
double DecodeProjection::head_seconds(const MachineModel& m) const {
  return m.memory_bytes_per_s > 0 ? static_cast<double>(head_bytes) / m.memory_bytes_per_s : 0;
}
double DecodeProjection::engine_tokens_per_second(const MachineModel& m) const {
  const double t = std::max(io_seconds(m) + head_seconds(m), memory_seconds(m));
  return t > 0 ? 1.0 / t : 0;
}
double DecodeProjection::serial_tokens_per_second(const MachineModel& m) const {
  const double t = io_seconds(m) + memory_seconds(m);
  return t > 0 ? 1.0 / t : 0;
}
double DecodeProjection::overlapped_tokens_per_second(const MachineModel& m) const {
  const double t = std::max(io_seconds(m), memory_seconds(m));
  return t > 0 ? 1.0 / t : 0;
}

Result<double> trace_hit_rate(const std::vector<std::string>& trace_paths, double cached_fraction, std::string* source) {
  MOESTREAM_ASSIGN_OR_RETURN(cachesim::RoutingTrace trace, cachesim::load_routing_traces(trace_paths, {}));
  if (trace.num_experts == 0 || trace.num_steps() == 0) return invalid_argument("the routing trace is empty");
  cachesim::ReplayContext context(trace, 0);
  cachesim::SimulationSpec spec;
  spec.policy = cachesim::PolicyKind::kLru;
  spec.capacity_per_layer = static_cast<uint32_t>(
      std::clamp<long>(std::lround(cached_fraction * trace.num_experts), 1, static_cast<long>(trace.num_experts)));
  MOESTREAM_ASSIGN_OR_RETURN(cachesim::SimulationStats stats, cachesim::simulate(context, spec));
  char text[256];
  std::snprintf(text, sizeof(text), "LRU replay of %zu file(s): %u layers x %u experts, top-%u, %u cached per layer",
                trace_paths.size(), trace.num_layers, trace.num_experts, trace.top_k, spec.capacity_per_layer);
  *source = text;
  return stats.hit_rate();
}

std::string describe_projection(const DecodeProjection& p, const MachineModel& m) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof(line), "placement: %s\n", p.plan.describe().c_str());
  out += line;
  std::snprintf(line, sizeof(line), "experts cached: %lld slots = %.1f%% of the %lld routed experts of %lld MoE layers\n",
                static_cast<long long>(p.plan.slots), 100.0 * p.cached_fraction,
                static_cast<long long>(p.moe_layers * p.experts_per_layer), static_cast<long long>(p.moe_layers));
  out += line;
  std::snprintf(line, sizeof(line), "hit rate: %.1f%% (%s)\n", 100.0 * p.hit_rate, p.hit_source.c_str());
  out += line;
  std::snprintf(line, sizeof(line),
                "per token: %lld x %lld experts x %s = %s used, %s missed; %s non-expert weights every step\n",
                static_cast<long long>(p.moe_layers), static_cast<long long>(p.top_k),
                format_bytes(p.expert_bytes).c_str(), format_bytes(static_cast<uint64_t>(p.used_bytes())).c_str(),
                format_bytes(static_cast<uint64_t>(p.missed_bytes())).c_str(), format_bytes(p.every_step_bytes).c_str());
  out += line;
  std::snprintf(line, sizeof(line),
                "time per token: I/O %.1f ms (missed / %.1f GB/s NVMe), memory %.1f ms (non-expert + used experts / "
                "%.1f GB/s)\n",
                1e3 * p.io_seconds(m), m.nvme_bytes_per_s / 1e9, 1e3 * p.memory_seconds(m), m.memory_bytes_per_s / 1e9);
  out += line;
  std::snprintf(line, sizeof(line),
                "projected decode: %.2f tok/s as the engine overlaps today (reads through every layer, none through "
                "the %.1f ms output head: max(I/O + head, memory)); %.2f tok/s with I/O and compute adding up, %.2f "
                "tok/s fully overlapped\n",
                p.engine_tokens_per_second(m), 1e3 * p.head_seconds(m), p.serial_tokens_per_second(m),
                p.overlapped_tokens_per_second(m));
  out += line;
  return out;
}

}  // namespace moestream::cli
