#include "profiling/cachesim/arc_policy.h"

#include <algorithm>

namespace moestream::cachesim {

// Moves the LRU key of T1 or T2 to its ghost list (the paper's REPLACE).
void ArcPolicy::replace(bool key_in_b2) {
  uint32_t t1 = lists_.size(kT1);
  bool from_t1 = t1 > 0 && ((key_in_b2 && t1 == static_cast<uint32_t>(p_)) ||
                            static_cast<double>(t1) > p_);
  if (lists_.size(kT2) == 0) from_t1 = true;
  if (from_t1) {
    lists_.push_front(kB1, lists_.pop_back(kT1));
  } else {
    lists_.push_front(kB2, lists_.pop_back(kT2));
  }
}

bool ArcPolicy::access(const Access& a) {
  const uint32_t x = a.key;
  const uint8_t where = lists_.list_of(x);
  if (where == kT1 || where == kT2) {  // case I: hit
    lists_.move_to_front(kT2, x);
    return true;
  }
  const double b1 = lists_.size(kB1), b2 = lists_.size(kB2);
  if (where == kB1) {  // case II: recency ghost hit, grow T1's target
    p_ = std::min<double>(c_, p_ + std::max(b2 / b1, 1.0));
    replace(false);
    lists_.remove(x);
    lists_.push_front(kT2, x);
    return false;
  }
  if (where == kB2) {  // case III: frequency ghost hit, shrink T1's target
    p_ = std::max(0.0, p_ - std::max(b1 / b2, 1.0));
    replace(true);
    lists_.remove(x);
    lists_.push_front(kT2, x);
    return false;
  }
  // case IV: a key in no list
  const uint32_t l1 = lists_.size(kT1) + lists_.size(kB1);
  const uint32_t total = l1 + lists_.size(kT2) + lists_.size(kB2);
  if (l1 == c_) {
    if (lists_.size(kT1) < c_) {
      lists_.pop_back(kB1);
      replace(false);
    } else {
      lists_.pop_back(kT1);
    }
  } else if (total >= c_) {
    if (total == 2 * c_) lists_.pop_back(kB2);
    replace(false);
  }
  lists_.push_front(kT1, x);
  return false;
}

}  // namespace moestream::cachesim
