// Intrusive doubly linked lists over dense keys: each key is in at most one list, and
// push/remove/pop are O(1) array operations (no allocation), which is what makes LRU replay
// run at tens of millions of accesses per second. LRU uses one list, ARC four.
#pragma once

#include <cstdint>
#include <vector>

namespace moestream::cachesim {

class KeyLists {
 public:
  static constexpr uint32_t kNone = 0xFFFFFFFFu;
  static constexpr uint8_t kNoList = 0xFF;

  KeyLists(uint32_t num_keys, uint8_t num_lists)
      : prev_(num_keys, kNone), next_(num_keys, kNone), list_(num_keys, kNoList),
        head_(num_lists, kNone), tail_(num_lists, kNone), size_(num_lists, 0) {}

  uint8_t list_of(uint32_t key) const { return list_[key]; }
  uint32_t size(uint8_t list) const { return size_[list]; }
  uint32_t back(uint8_t list) const { return tail_[list]; }  // least recent

  void push_front(uint8_t list, uint32_t key) {
    list_[key] = list;
    prev_[key] = kNone;
    next_[key] = head_[list];
    if (head_[list] != kNone) prev_[head_[list]] = key; else tail_[list] = key;
    head_[list] = key;
    ++size_[list];
  }

  void remove(uint32_t key) {
    uint8_t list = list_[key];
    if (prev_[key] != kNone) next_[prev_[key]] = next_[key]; else head_[list] = next_[key];
    if (next_[key] != kNone) prev_[next_[key]] = prev_[key]; else tail_[list] = prev_[key];
    list_[key] = kNoList;
    --size_[list];
  }

  void move_to_front(uint8_t list, uint32_t key) {
    if (list_[key] == list && head_[list] == key) return;
    if (list_[key] != kNoList) remove(key);
    push_front(list, key);
  }

  uint32_t pop_back(uint8_t list) {
    uint32_t key = tail_[list];
    remove(key);
    return key;
  }

 private:
  std::vector<uint32_t> prev_, next_;
  std::vector<uint8_t> list_;
  std::vector<uint32_t> head_, tail_, size_;
};

}  // namespace moestream::cachesim
