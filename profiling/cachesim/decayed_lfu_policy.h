// LFU whose counts decay with a half-life in tokens, so the cache follows the experts that
// are popular *now* (LFU over a whole multi-prompt stream loses to LRU; fresh counts win,
// see docs/profiling.md, worked example). Scores live in the log2 domain so they never overflow:
// score = log2(decayed count) + t / half_life, and the order of two keys never changes
// while neither is touched.
#pragma once

#include <vector>

#include "profiling/cachesim/cache_policy.h"
#include "profiling/cachesim/lazy_min_heap.h"

namespace moestream::cachesim {

class DecayedLfuPolicy final : public CachePolicy {
 public:
  DecayedLfuPolicy(uint32_t num_keys, uint32_t capacity, double half_life_tokens);
  bool access(const Access& a) override;
  bool contains(uint32_t key) const override { return resident_[key] != 0; }

 private:
  std::vector<double> log_score_;  // -inf: never used
  std::vector<uint8_t> resident_;
  LazyMinHeap heap_;
  uint32_t capacity_;
  uint32_t size_ = 0;
  double half_life_;
  uint64_t clock_ = 0;
};

}  // namespace moestream::cachesim
