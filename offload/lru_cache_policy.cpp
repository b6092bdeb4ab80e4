#include "offload/lru_cache_policy.h"

namespace moestream {

LruCachePolicy::LruCachePolicy(int slots)
    : prev_(static_cast<size_t>(slots), -1),
      next_(static_cast<size_t>(slots), -1),
      linked_(static_cast<size_t>(slots), false) {}

void LruCachePolicy::unlink(int slot) {
  if (!linked_[slot]) return;
  if (prev_[slot] >= 0) next_[prev_[slot]] = next_[slot]; else head_ = next_[slot];
  if (next_[slot] >= 0) prev_[next_[slot]] = prev_[slot]; else tail_ = prev_[slot];
  prev_[slot] = next_[slot] = -1;
  linked_[slot] = false;
}

void LruCachePolicy::move_to_front(int slot) {
  unlink(slot);
  next_[slot] = head_;
  if (head_ >= 0) prev_[head_] = slot;
  head_ = slot;
  if (tail_ < 0) tail_ = slot;
  linked_[slot] = true;
}

int LruCachePolicy::choose_victim(const std::function<bool(int)>& evictable) const {
  for (int s = tail_; s >= 0; s = prev_[s])
    if (evictable(s)) return s;
  return -1;
}

}  // namespace moestream
