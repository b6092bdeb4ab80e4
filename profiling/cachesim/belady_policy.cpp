#include "profiling/cachesim/belady_policy.h"

namespace moestream::cachesim {

namespace {
double far_first(uint64_t next_use) { return -static_cast<double>(next_use); }
}  // namespace

BeladyPolicy::BeladyPolicy(uint32_t num_keys, uint32_t capacity, bool allow_bypass)
    : resident_(num_keys, 0), heap_(num_keys), capacity_(capacity), allow_bypass_(allow_bypass) {
  heap_.set_live_count_estimate(capacity);
}

bool BeladyPolicy::access(const Access& a) {
  if (resident_[a.key]) {
    heap_.set(a.key, far_first(a.next_use), 0);
    return true;
  }
  if (capacity_ == 0) return false;
  if (size_ >= capacity_) {
    // Keep the cache when every resident key is needed sooner than the incoming one.
    if (allow_bypass_ && -heap_.top_priority() <= static_cast<double>(a.next_use)) return false;
    uint32_t victim = heap_.top_key();
    heap_.erase(victim);
    resident_[victim] = 0;
    --size_;
  }
  resident_[a.key] = 1;
  ++size_;
  heap_.set(a.key, far_first(a.next_use), 0);
  return false;
}

}  // namespace moestream::cachesim
