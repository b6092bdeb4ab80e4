// A static hot set: the keys chosen up front (the most used experts of a training split)
// are admitted on their first use and then never evicted; every other expert is loaded
// into a transient buffer for the one use and dropped. It starts empty like every other
// policy (so OPT bounds it), never adapts, and shows what frequency alone is worth.
#pragma once

#include <vector>

#include "profiling/cachesim/cache_policy.h"

namespace moestream::cachesim {

class StaticHotSetPolicy final : public CachePolicy {
 public:
  StaticHotSetPolicy(uint32_t num_keys, const std::vector<uint32_t>& pinned_keys)
      : state_(num_keys, kNotHot) {
    for (uint32_t k : pinned_keys)
      if (k < num_keys) state_[k] = kHotNotLoaded;
  }
  bool access(const Access& a) override {
    if (state_[a.key] == kLoaded) return true;
    if (state_[a.key] == kHotNotLoaded) state_[a.key] = kLoaded;
    return false;
  }
  bool contains(uint32_t key) const override { return state_[key] == kLoaded; }

 private:
  static constexpr uint8_t kNotHot = 0, kHotNotLoaded = 1, kLoaded = 2;
  std::vector<uint8_t> state_;
};

// The `capacity` most frequent keys of `counts` (ties: lower key first).
std::vector<uint32_t> top_keys_by_count(const std::vector<uint64_t>& counts, uint32_t capacity);

}  // namespace moestream::cachesim
