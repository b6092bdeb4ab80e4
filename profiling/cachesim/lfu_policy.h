// Least frequently used with counts since the start of the replay, kept for every key
// (also while evicted), so a returning expert keeps its history. Ties: least recent goes.
#pragma once

#include <vector>

#include "profiling/cachesim/cache_policy.h"
#include "profiling/cachesim/lazy_min_heap.h"

namespace moestream::cachesim {

class LfuPolicy final : public CachePolicy {
 public:
  LfuPolicy(uint32_t num_keys, uint32_t capacity);
  bool access(const Access& a) override;
  bool contains(uint32_t key) const override { return resident_[key] != 0; }

 private:
  std::vector<uint64_t> count_;
  std::vector<uint8_t> resident_;
  LazyMinHeap heap_;
  uint32_t capacity_;
  uint32_t size_ = 0;
  uint64_t clock_ = 0;
};

}  // namespace moestream::cachesim
