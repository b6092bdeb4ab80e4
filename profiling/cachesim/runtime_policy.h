// The runtime's own replacement policies (offload/lru_cache_policy, lfu_decay_cache_policy)
// driven by the simulator: a key-to-slot map in front of the slot-based policy, filled and
// evicted the way ExpertCache does it (free slots first, then the policy's victim among the
// slots not serving the current step, as the runtime pins a step's experts). Hit rates the
// simulator reports for lru / lfu-decay are therefore the runtime's on the same trace.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "offload/cache_policy.h"
#include "profiling/cachesim/cache_policy.h"

namespace moestream::cachesim {

class RuntimePolicy final : public CachePolicy {
 public:
  RuntimePolicy(std::unique_ptr<moestream::CachePolicy> policy, uint32_t num_keys, uint32_t capacity);
  bool access(const Access& a) override;
  bool contains(uint32_t key) const override { return slot_of_[key] >= 0; }

 private:
  std::unique_ptr<moestream::CachePolicy> policy_;
  std::vector<int32_t> slot_of_;  // -1: not resident
  std::vector<uint32_t> key_of_;
  std::vector<uint64_t> step_of_;  // the step that last used the slot (pinned while it runs)
  std::vector<int> free_;
};

}  // namespace moestream::cachesim
