// Streaming mode (a RAM budget): the budget plan, the expert cache and the streaming provider
// built from it, and the report of what the cache did. The engine opens one per model; the
// CLI's --ram-budget flags are parsed into StreamingOptions.
//
// Ownership: the session owns the cache and the provider; both refer to the ContainerReader
// passed to open_streaming, which must outlive the session. Thread-safety: as ExpertCache
// and StreamingExpertProvider (the provider serves one forward pass at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "format/container_reader.h"
#include "offload/expert_cache.h"
#include "offload/ram_budget.h"
#include "runtime/engine/touched_weights.h"
#include "runtime/kv_cache.h"
#include "runtime/streaming_expert_provider.h"

namespace moestream {

struct StreamingOptions {
  uint64_t ram_budget = 0;  // bytes for the whole process
  CachePolicyOptions policy;
  int64_t prefetch_margin = 2;  // < 0: no pre-gating
  int64_t prefetch_lookahead = kPrefetchLookahead;  // guess a MoE layer from up to this many layers before it
  double prefetch_min_precision = kPrefetchMinPrecision;  // below it hints are scored, not read
  std::string pin_profile;      // hot set file ('LAYER EXPERT' lines), empty: none
  bool verify_blobs = true;
  uint32_t request_size = 64u << 20;
  unsigned queue_depth = kDefaultQueueDepth;
  bool force_pread = false;
};

// What the budget must hold besides the experts: KV for `kv_tokens` tokens in all (every
// sequence together) and the activations of steps of up to `step_rows` rows.
struct StreamingWorkload {
  int64_t kv_tokens = 1;
  int64_t step_rows = 1;
  int64_t logit_rows = 1;  // rows of a step whose logits are computed
  KvCachePrecision kv_precision = KvCachePrecision::kF32;
  bool mtp = false;  // the MTP layer runs (drafts): count its tensors as resident
  int64_t threads = 0;  // kernel threads the scratch is planned for (0: the pool's)
};

// What the budget plan needs to know of a model: from its container (footprint_of), or from
// its config alone for a model not at hand (`plan --project`'s built-in DeepSeek-V3 shape).
struct ModelFootprint {
  ModelConfig config;
  TouchedWeights touched;
  uint64_t slot_bytes = 0;     // one expert slot
  uint64_t staging_bytes = 0;  // per staging buffer for compressed blobs (0: none)
  int64_t total_experts = 0;   // routed experts of every layer, the MTP layer's included
};
ModelFootprint footprint_of(const ContainerReader& reader);

struct StreamingSession {
  RamBudgetPlan plan;
  std::unique_ptr<ExpertCache> cache;
  std::unique_ptr<StreamingExpertProvider> provider;
};

// The budget plan alone (what open_streaming uses; `moestream plan` prints it): resident
// weights, KV for workload.kv_tokens, forward scratch and logits for the largest step, I/O
// staging, and the expert slots left.
Result<RamBudgetPlan> plan_streaming_budget(const ModelFootprint& model, const StreamingOptions& options,
                                            const StreamingWorkload& workload, int64_t hot_set_size);
Result<RamBudgetPlan> plan_streaming_budget(const ContainerReader& reader, const StreamingOptions& options,
                                            const StreamingWorkload& workload, int64_t hot_set_size);

// Plans the budget, then builds the cache and the provider; `log` gets the plan and the I/O
// path in a few lines (may be empty).
Result<std::unique_ptr<StreamingSession>> open_streaming(const ContainerReader& reader,
                                                         const StreamingOptions& options,
                                                         const StreamingWorkload& workload,
                                                         const std::function<void(std::string_view)>& log);

// The expert-cache report: per-layer hits/misses/prefetch/bytes/stall, totals, prefetch
// recall and waste, loader counters, peak RSS against the budget.
std::string streaming_report(const StreamingSession& session);

}  // namespace moestream
