#include "offload/ram_budget.h"

#include <algorithm>
#include <cstdio>

#include "platform/progress_bar.h"

namespace moestream {

uint64_t RamBudgetPlan::total_bytes() const {
  return inputs.resident_weight_bytes + inputs.kv_cache_bytes + inputs.io_buffer_bytes +
         inputs.overhead_bytes + slot_pool_bytes();
}

std::string RamBudgetPlan::describe() const {
  const RamBudgetInputs& in = inputs;
  char share[32];
  std::snprintf(share, sizeof(share), "%.0f%%",
                in.total_experts ? 100.0 * static_cast<double>(slots) / static_cast<double>(in.total_experts) : 0.0);
  return "ram budget " + format_bytes(in.budget) + " = resident weights " +
         format_bytes(in.resident_weight_bytes) + " + KV cache " + format_bytes(in.kv_cache_bytes) + " + " +
         std::to_string(slots) + " expert slots x " + format_bytes(in.slot_bytes) + " (" +
         format_bytes(slot_pool_bytes()) + ", " + share + " of " + std::to_string(in.total_experts) +
         " experts) + I/O buffers " + format_bytes(in.io_buffer_bytes) + " + overhead " +
         format_bytes(in.overhead_bytes) + "; planned " + format_bytes(total_bytes());
}

Result<RamBudgetPlan> plan_ram_budget(const RamBudgetInputs& in) {
  if (in.slot_bytes == 0) return invalid_argument("ram budget: the model has no routed experts to stream");
  const uint64_t fixed = in.resident_weight_bytes + in.kv_cache_bytes + in.io_buffer_bytes + in.overhead_bytes;
  const uint64_t minimum = fixed + static_cast<uint64_t>(in.min_slots) * in.slot_bytes;
  if (in.budget < minimum) {
    return out_of_memory("--ram-budget " + format_bytes(in.budget) + " cannot hold the resident weights (" +
                         format_bytes(in.resident_weight_bytes) + ") + KV cache (" +
                         format_bytes(in.kv_cache_bytes) + ") + I/O buffers (" + format_bytes(in.io_buffer_bytes) +
                         ") + overhead (" + format_bytes(in.overhead_bytes) + ") + at least " +
                         std::to_string(in.min_slots) + " expert slots of " + format_bytes(in.slot_bytes) +
                         " (top-k + prefetch margin); it needs at least " + format_bytes(minimum));
  }
  RamBudgetPlan plan;
  plan.inputs = in;
  plan.slots = static_cast<int64_t>((in.budget - fixed) / in.slot_bytes);
  if (in.total_experts > 0) plan.slots = std::min(plan.slots, in.total_experts);
  return plan;
}

uint64_t default_overhead_bytes(uint64_t baseline_rss, uint64_t activation_bytes) {
  // The start-up RSS moves by a few MB from run to run (pages of the mapped container the
  // header checks touched, allocator state); rounded up to 16 MiB it is the same in nearly
  // every run, so one --ram-budget gives the same number of expert slots.
  constexpr uint64_t kGranule = 16ull << 20;
  const uint64_t baseline = (baseline_rss + kGranule - 1) / kGranule * kGranule;
  return baseline + activation_bytes + (32ull << 20);
}

}  // namespace moestream
