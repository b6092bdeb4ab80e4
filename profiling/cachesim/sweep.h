// Runs the simulator over a list of cache sizes x policies x pool layouts (and prefetch
// models on a base policy), which is what `moestream cachesim` reports and plots.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "profiling/cachesim/routing_trace.h"
#include "profiling/cachesim/simulator.h"
#include "platform/status.h"

namespace moestream::cachesim {

// DeepSeek-V3: 3 x 7168 x 2048 FP8 weights + 3 x 896 FP32 block scales (docs/model-math.md §12.2).
inline constexpr uint64_t kDeepSeekV3ExpertBytes = 44'040'192 + 10'752;

struct SweepConfig {
  std::vector<uint32_t> sizes;  // experts cached per layer
  std::vector<uint32_t> layer_labels;  // display ids of the MoE layers (from the trace)
  std::vector<PolicyKind> policies = {PolicyKind::kLru,          PolicyKind::kLfu,
                                      PolicyKind::kDecayedLfu,   PolicyKind::kArc,
                                      PolicyKind::kStaticHotSet, PolicyKind::kStaticOracle,
                                      PolicyKind::kBelady};
  bool per_layer = true;
  bool shared = true;
  std::vector<PrefetchKind> prefetch = {PrefetchKind::kOracleNextLayer,
                                        PrefetchKind::kCoOccurrence, PrefetchKind::kPregate};
  std::vector<uint32_t> prefetch_budgets;  // empty: {k}
  PolicyKind prefetch_base = PolicyKind::kLru;
  double train_fraction = 0.5;  // of the sequences, in file order
  double lfu_half_life_tokens = 32;
  uint64_t expert_bytes = kDeepSeekV3ExpertBytes;
  std::string expert_bytes_source = "default (DeepSeek-V3 FP8 expert)";
};

struct RunResult {
  SimulationSpec spec;
  SimulationStats stats;
};

struct SweepResult {
  SweepConfig config;
  uint32_t num_layers = 0, num_experts = 0, top_k = 0;
  uint32_t sequences = 0, train_sequences = 0;
  uint64_t tokens = 0, replayed_tokens = 0, replayed_accesses = 0;
  bool has_phase = false, has_pregate = false;
  std::vector<std::string> sources;
  std::vector<RunResult> runs;
  std::vector<std::string> notes;  // what was skipped and why
  double seconds = 0;
};

// C = k and N x {1/8, 3/16, 1/4, 3/8, 1/2, 3/4}, deduplicated (N = 64, k = 6 gives the
// sizes 6..48 of the Table A2 comparison in docs/profiling.md, worked example).
std::vector<uint32_t> default_cache_sizes(uint32_t num_experts, uint32_t top_k);

// `progress(done, total)` after each run.
Result<SweepResult> run_sweep(const RoutingTrace& trace, const SweepConfig& config,
                              const std::function<void(size_t, size_t)>& progress = {});

// The run for (policy, pool, size) without prefetch, or nullptr.
const RunResult* find_run(const SweepResult& result, PolicyKind policy, bool shared,
                          uint32_t size);

}  // namespace moestream::cachesim
