// How --ram-budget is spent: resident (non-expert) weights + KV cache for the longest context
// + the expert slot pool + I/O staging buffers + a fixed allowance for the process itself
// (code, libraries, tokenizer, activations, logits). The expert cache gets what is left, and
// the plan is refused when that is less than the minimum number of slots.
#pragma once

#include <cstdint>
#include <string>

#include "platform/status.h"

namespace moestream {

struct RamBudgetInputs {
  uint64_t budget = 0;
  uint64_t resident_weight_bytes = 0;
  uint64_t kv_cache_bytes = 0;
  uint64_t io_buffer_bytes = 0;
  uint64_t overhead_bytes = 0;
  uint64_t slot_bytes = 0;
  int64_t min_slots = 1;      // top-k + prefetch margin
  int64_t total_experts = 0;  // no point in more slots than experts
};

struct RamBudgetPlan {
  RamBudgetInputs inputs;
  int64_t slots = 0;
  uint64_t slot_pool_bytes() const { return static_cast<uint64_t>(slots) * inputs.slot_bytes; }
  uint64_t total_bytes() const;
  // "ram budget 1.2 GB = resident weights 300 MB + KV 20 MB + 40 expert slots x 6 MB (240 MB,
  // 25% of 160 experts) + I/O buffers 0 B + overhead 96 MB"
  std::string describe() const;
};

Result<RamBudgetPlan> plan_ram_budget(const RamBudgetInputs& inputs);

// Process overhead allowance: what the process already uses before the model is opened
// (rounded up to 16 MiB so small run-to-run differences do not change the plan), plus room
// for activations and logits.
uint64_t default_overhead_bytes(uint64_t baseline_rss, uint64_t activation_bytes);

}  // namespace moestream
