#include "profiling/cachesim/lfu_policy.h"

namespace moestream::cachesim {

LfuPolicy::LfuPolicy(uint32_t num_keys, uint32_t capacity)
    : count_(num_keys, 0), resident_(num_keys, 0), heap_(num_keys), capacity_(capacity) {
  heap_.set_live_count_estimate(capacity);
}

bool LfuPolicy::access(const Access& a) {
  ++clock_;
  ++count_[a.key];
  if (resident_[a.key]) {
    heap_.set(a.key, static_cast<double>(count_[a.key]), clock_);
    return true;
  }
  if (size_ >= capacity_) {
    uint32_t victim = heap_.top_key();
    heap_.erase(victim);
    resident_[victim] = 0;
    --size_;
  }
  resident_[a.key] = 1;
  ++size_;
  heap_.set(a.key, static_cast<double>(count_[a.key]), clock_);
  return false;
}

}  // namespace moestream::cachesim
