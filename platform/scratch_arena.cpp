#include "platform/scratch_arena.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace moestream {

void ScratchArena::Free::operator()(uint8_t* p) const { std::free(p); }

namespace {

uint8_t* allocate_aligned(size_t bytes, size_t align) {
  const size_t rounded = (std::max<size_t>(bytes, 1) + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded);
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<uint8_t*>(p);
}

}  // namespace

void* ScratchArena::take_bytes(size_t bytes) {
  const size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  const size_t begin = used_;
  used_ += rounded;
  high_water_ = std::max(high_water_, used_);
  if (used_ <= capacity_) return block_.get() + begin;
  // Does not fit: a block of its own until reset(), which then plans for this size.
  ++overflows_;
  overflow_.emplace_back(allocate_aligned(rounded, kAlign));
  return overflow_.back().get();
}

void ScratchArena::reset() {
  used_ = 0;
  if (overflow_.empty()) return;
  overflow_.clear();
  grow_to(high_water_);
}

void ScratchArena::grow_to(size_t bytes) {
  if (bytes == 0) return;
  // A little headroom, so a step a few rows longer than the last does not overflow again.
  const size_t target = (bytes + bytes / 8 + kAlign - 1) / kAlign * kAlign;
  block_.reset(allocate_aligned(target, kAlign));
  capacity_ = target;
}

}  // namespace moestream
