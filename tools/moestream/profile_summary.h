// What `moestream profile` prints after the cache report: per phase the hit rate (outcome
// counts), the share of steps with all k experts in RAM, demand loads per token; loads and
// bytes per token; prefetch slot recall and waste; and the wait for loads (mean, p50, p99).
// Built from the trace records the run wrote plus the cache's own counters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "offload/cache_stats.h"
#include "profiling/trace/trace_format.h"

namespace moestream::cli {

class ProfileSummary {
 public:
  void add(const trace::TraceRecord& record);
  std::string format(const std::vector<LayerCacheStats>& cache_stats) const;

  uint64_t tokens() const { return tokens_[0] + tokens_[1]; }
  uint64_t records() const { return steps_[0] + steps_[1]; }
  // Hits and prefetch hits (in RAM when needed) over all expert accesses.
  double hit_rate() const;

 private:
  uint64_t tokens_[2] = {0, 0};               // per phase: records of MoE layer 0
  uint64_t steps_[2] = {0, 0};                // per phase: records
  uint64_t resident_steps_[2] = {0, 0};       // all k hit or prefetch hit
  uint64_t outcomes_[2][5] = {};              // hit, prefetch hit, late, miss, unknown
  uint64_t guessed_steps_ = 0, guessed_slots_ = 0, guessed_correct_ = 0;
  uint64_t wasted_for_step_ = 0;              // prefetched for a step it did not use
  std::vector<uint32_t> waits_us_;            // misses and late prefetches
};

}  // namespace moestream::cli
