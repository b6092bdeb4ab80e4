#include "text/tokenizer/bpe_merge_table.h"

#include <utility>

namespace moestream {

void BpeMergeTable::reserve(size_t count) {
  size_t capacity = 16;
  while (capacity < count * 2) capacity *= 2;  // load factor <= 0.5 keeps probes short
  if (capacity <= slots_.size()) return;
  std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(capacity));
  mask_ = capacity - 1;
  size_ = 0;
  for (const Slot& s : old) {
    if (s.key != kEmpty) insert(static_cast<int32_t>(s.key >> 32), static_cast<int32_t>(s.key & 0xFFFFFFFFu), s.merge);
  }
}

void BpeMergeTable::grow() { reserve(size_ + 1 > 8 ? size_ + 1 : 8); }

void BpeMergeTable::insert(int32_t left, int32_t right, BpeMerge merge) {
  if (slots_.empty() || (size_ + 1) * 2 > slots_.size()) grow();
  uint64_t key = make_key(left, right);
  for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.key == key) {
      s.merge = merge;
      return;
    }
    if (s.key == kEmpty) {
      s.key = key;
      s.merge = merge;
      ++size_;
      return;
    }
  }
}

}  // namespace moestream
