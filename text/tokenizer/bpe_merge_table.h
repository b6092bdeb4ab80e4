// Open-addressing hash table from a pair of adjacent token ids to the merge that joins them
// (its rank in tokenizer.json's merge list and the id of the result). BPE spends most of
// its time here, so it is flat and probed linearly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace moestream {

struct BpeMerge {
  int32_t rank = -1;     // position in the merge list; lower merges first
  int32_t merged_id = -1;
};

class BpeMergeTable {
 public:
  void reserve(size_t count);
  // Inserts or overwrites (a later duplicate of a pair wins, as in the reference).
  void insert(int32_t left, int32_t right, BpeMerge merge);
  // rank -1 when the pair has no merge.
  BpeMerge find(int32_t left, int32_t right) const {
    if (slots_.empty()) return {};
    uint64_t key = make_key(left, right);
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return s.merge;
      if (s.key == kEmpty) return {};
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key = kEmpty;
    BpeMerge merge;
  };
  static uint64_t make_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  size_t slot_of(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask_;
  }
  void grow();

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace moestream
