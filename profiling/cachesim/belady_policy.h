// Belady's MIN (OPT), the offline bound for demand caching: it reads each access's next
// use. On a miss it evicts the resident key whose next use is farthest, or bypasses the
// cache when the incoming key's own next use is farther still (MIN with bypass is optimal
// among all policies that may or may not insert on a miss, which includes the static hot
// set and every online policy here). It is not a bound for prefetching, which loads
// experts before their demand access.
#pragma once

#include <vector>

#include "profiling/cachesim/cache_policy.h"
#include "profiling/cachesim/lazy_min_heap.h"

namespace moestream::cachesim {

class BeladyPolicy final : public CachePolicy {
 public:
  // allow_bypass = false: every miss is admitted (evicting the farthest resident), the
  // classic MIN for caches that cannot stream an expert past the cache.
  BeladyPolicy(uint32_t num_keys, uint32_t capacity, bool allow_bypass = true);
  bool access(const Access& a) override;
  bool contains(uint32_t key) const override { return resident_[key] != 0; }

 private:
  std::vector<uint8_t> resident_;
  LazyMinHeap heap_;  // priority = -next_use: the top is the farthest next use
  uint32_t capacity_;
  uint32_t size_ = 0;
  bool allow_bypass_;
};

}  // namespace moestream::cachesim
