#include "profiling/cachesim/runtime_policy.h"

namespace moestream::cachesim {

RuntimePolicy::RuntimePolicy(std::unique_ptr<moestream::CachePolicy> policy, uint32_t num_keys,
                             uint32_t capacity)
    : policy_(std::move(policy)),
      slot_of_(num_keys, -1),
      key_of_(capacity, 0),
      step_of_(capacity, 0) {
  // Same order as ExpertCache: slot 0 is taken first.
  for (uint32_t s = capacity; s-- > 0;) free_.push_back(static_cast<int>(s));
}

bool RuntimePolicy::access(const Access& a) {
  int slot = slot_of_[a.key];
  if (slot >= 0) {
    step_of_[slot] = a.step;
    policy_->on_access(slot);
    return true;
  }
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = policy_->choose_victim([&](int s) { return step_of_[s] != a.step; });
    // Every slot serves this step (capacity below k): the runtime would stall on its pins;
    // the simulator streams the expert through without caching it.
    if (slot < 0) return false;
    slot_of_[key_of_[slot]] = -1;
    policy_->on_evict(slot);
  }
  slot_of_[a.key] = slot;
  key_of_[slot] = a.key;
  step_of_[slot] = a.step;
  policy_->on_insert(slot);
  return false;
}

}  // namespace moestream::cachesim
