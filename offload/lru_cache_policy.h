// Least recently used: evict the slot whose last access is oldest. The simulator
// (profiling/cachesim) replays this same class, so its hit rates are the runtime's.
#pragma once

#include <vector>

#include "offload/cache_policy.h"

namespace moestream {

class LruCachePolicy : public CachePolicy {
 public:
  explicit LruCachePolicy(int slots);
  std::string name() const override { return "lru"; }
  void on_insert(int slot) override { move_to_front(slot); }
  void on_access(int slot) override { move_to_front(slot); }
  void on_evict(int slot) override { unlink(slot); }
  int choose_victim(const std::function<bool(int)>& evictable) const override;

 private:
  void unlink(int slot);
  void move_to_front(int slot);

  // A doubly linked recency list over the slots (most recent at head_); the victim is
  // the first evictable slot from the tail, usually the tail itself.
  std::vector<int> prev_, next_;
  std::vector<bool> linked_;
  int head_ = -1, tail_ = -1;
};

}  // namespace moestream
