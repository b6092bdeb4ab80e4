// Adaptive Replacement Cache (Megiddo & Modha, FAST'03): T1 holds keys seen once recently,
// T2 keys seen at least twice; the ghost lists B1/B2 remember recent evictions from each
// and steer the target size p of T1 between recency and frequency.
#pragma once

#include "profiling/cachesim/cache_policy.h"
#include "profiling/cachesim/key_lists.h"

namespace moestream::cachesim {

class ArcPolicy final : public CachePolicy {
 public:
  ArcPolicy(uint32_t num_keys, uint32_t capacity) : lists_(num_keys, 4), c_(capacity) {}
  bool access(const Access& a) override;
  bool contains(uint32_t key) const override {
    uint8_t l = lists_.list_of(key);
    return l == kT1 || l == kT2;
  }

 private:
  static constexpr uint8_t kT1 = 0, kT2 = 1, kB1 = 2, kB2 = 3;
  void replace(bool key_in_b2);

  KeyLists lists_;
  uint32_t c_;
  double p_ = 0;  // target size of T1
};

}  // namespace moestream::cachesim
