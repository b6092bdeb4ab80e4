// A min-heap of (priority, tiebreak, key) with lazy deletion: updating a key pushes a new
// entry and the old one is skipped when it surfaces (its stamp no longer matches). Used by
// the policies that evict the resident key with the smallest score (LFU, decayed LFU, OPT).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace moestream::cachesim {

class LazyMinHeap {
 public:
  explicit LazyMinHeap(uint32_t num_keys) : stamp_(num_keys, 0), live_(num_keys, 0) {}

  // Inserts or re-prioritises `key`.
  void set(uint32_t key, double priority, uint64_t tiebreak) {
    live_[key] = 1;
    heap_.push_back({priority, tiebreak, key, ++stamp_[key]});
    std::push_heap(heap_.begin(), heap_.end(), Greater{});
    if (heap_.size() > 64 + 8 * live_count_estimate_) compact();
  }
  void erase(uint32_t key) {
    live_[key] = 0;
    ++stamp_[key];
  }
  // The live key with the smallest (priority, tiebreak); the heap must not be empty.
  uint32_t top_key() {
    drop_stale();
    return heap_.front().key;
  }
  double top_priority() {
    drop_stale();
    return heap_.front().priority;
  }
  void set_live_count_estimate(uint32_t n) { live_count_estimate_ = n; }

 private:
  struct Entry {
    double priority;
    uint64_t tiebreak;
    uint32_t key;
    uint64_t stamp;
  };
  struct Greater {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.priority != b.priority ? a.priority > b.priority : a.tiebreak > b.tiebreak;
    }
  };
  bool stale(const Entry& e) const { return !live_[e.key] || e.stamp != stamp_[e.key]; }
  void drop_stale() {
    while (!heap_.empty() && stale(heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), Greater{});
      heap_.pop_back();
    }
  }
  void compact() {
    std::erase_if(heap_, [&](const Entry& e) { return stale(e); });
    std::make_heap(heap_.begin(), heap_.end(), Greater{});
  }

  std::vector<Entry> heap_;
  std::vector<uint64_t> stamp_;
  std::vector<uint8_t> live_;
  uint32_t live_count_estimate_ = 1024;
};

}  // namespace moestream::cachesim
