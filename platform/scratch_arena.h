// Scratch memory for the forward pass, planned once and reused every step (TFLite Micro's
// plan-then-run): a bump allocator over one block. take() hands out 64-byte-aligned,
// uninitialized arrays; a Scope gives back everything taken inside it when it ends, so each
// layer reuses the same bytes. A step that needs more than the block still runs: the excess
// comes from overflow blocks, and the next reset() grows the block to the high-water mark,
// so from then on steps of that size allocate nothing.
//
// Not thread-safe: one arena per thread of forward work. Pointers stay valid until the
// enclosing Scope ends or reset() is called.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

namespace moestream {

class ScratchArena {
 public:
  explicit ScratchArena(size_t bytes = 0) { grow_to(bytes); }

  template <class T>
  T* take(size_t count) {
    static_assert(std::is_trivially_destructible_v<T>);
    return static_cast<T*>(take_bytes(count * sizeof(T)));
  }

  // Gives back what was taken since its construction.
  class Scope {
   public:
    explicit Scope(ScratchArena& arena) : arena_(arena), mark_(arena.used_) {}
    ~Scope() { arena_.used_ = mark_; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    ScratchArena& arena_;
    size_t mark_;
  };

  // Between steps (nothing may be held): drops overflow blocks and, if there were any, grows
  // the block to the high-water mark.
  void reset();
  // Makes the block at least `bytes` (the plan); only between steps.
  void reserve(size_t bytes) {
    if (bytes > capacity_) grow_to(bytes);
  }

  size_t capacity() const { return capacity_; }
  size_t high_water() const { return high_water_; }
  uint64_t overflow_count() const { return overflows_; }  // takes that did not fit, ever

 private:
  static constexpr size_t kAlign = 64;
  void* take_bytes(size_t bytes);
  void grow_to(size_t bytes);

  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> block_;
  size_t capacity_ = 0;
  size_t used_ = 0;  // logical bytes in use, overflow included
  size_t high_water_ = 0;
  uint64_t overflows_ = 0;
  std::vector<std::unique_ptr<uint8_t, Free>> overflow_;
};

}  // namespace moestream
