#include "profiling/cachesim/decayed_lfu_policy.h"

#include <cmath>
#include <limits>

namespace moestream::cachesim {

DecayedLfuPolicy::DecayedLfuPolicy(uint32_t num_keys, uint32_t capacity, double half_life_tokens)
    : log_score_(num_keys, -std::numeric_limits<double>::infinity()),
      resident_(num_keys, 0),
      heap_(num_keys),
      capacity_(capacity),
      half_life_(half_life_tokens > 0 ? half_life_tokens : 1.0) {
  heap_.set_live_count_estimate(capacity);
}

bool DecayedLfuPolicy::access(const Access& a) {
  ++clock_;
  // Adding 1 at time t adds 2^(t / half_life) in the linear domain:
  // new = log2(2^old + 2^(t/h)) computed as max + log2(1 + 2^(min - max)).
  double add = static_cast<double>(a.now_token) / half_life_;
  double old = log_score_[a.key];
  double hi = std::max(old, add);
  double lo = std::min(old, add);
  log_score_[a.key] = std::isinf(lo) ? hi : hi + std::log2(1.0 + std::exp2(lo - hi));
  bool hit = resident_[a.key] != 0;
  if (!hit) {
    if (size_ >= capacity_) {
      uint32_t victim = heap_.top_key();
      heap_.erase(victim);
      resident_[victim] = 0;
      --size_;
    }
    resident_[a.key] = 1;
    ++size_;
  }
  heap_.set(a.key, log_score_[a.key], clock_);
  return hit;
}

}  // namespace moestream::cachesim
