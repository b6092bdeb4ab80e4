// Least recently used: on a miss with a full cache, evict the key untouched the longest.
#pragma once

#include "profiling/cachesim/cache_policy.h"
#include "profiling/cachesim/key_lists.h"

namespace moestream::cachesim {

class LruPolicy final : public CachePolicy {
 public:
  LruPolicy(uint32_t num_keys, uint32_t capacity) : lists_(num_keys, 1), capacity_(capacity) {}

  bool access(const Access& a) override {
    if (lists_.list_of(a.key) == 0) {
      lists_.move_to_front(0, a.key);
      return true;
    }
    if (lists_.size(0) >= capacity_) lists_.pop_back(0);
    lists_.push_front(0, a.key);
    return false;
  }
  bool contains(uint32_t key) const override { return lists_.list_of(key) == 0; }

 private:
  KeyLists lists_;
  uint32_t capacity_;
};

}  // namespace moestream::cachesim
