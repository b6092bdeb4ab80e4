// Owned, aligned memory (mimalloc). Large buffers can ask for transparent huge pages.
#pragma once

#include <cstddef>
#include <cstdint>

#include "platform/status.h"

namespace moestream {

inline constexpr size_t kPageSize = 4096;
inline constexpr size_t kHugePageSize = 2u << 20;

// Owns its memory (freed in the destructor); moves transfer ownership and leave the source
// empty. data() stays valid until the buffer is destroyed or moved from.
// Thread-safe: no internal locking; concurrent const use is safe, writes to the bytes are the
// caller's to synchronize.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  ~AlignedBuffer();
  AlignedBuffer(AlignedBuffer&& other) noexcept;
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  // `alignment` must be a power of two. With `huge_pages`, buffers of at least 2 MiB are
  // 2 MiB-aligned and advised MADV_HUGEPAGE; huge_pages() reports whether the kernel took it.
  static Result<AlignedBuffer> allocate(size_t size, size_t alignment = kPageSize,
                                        bool huge_pages = false, bool zero = false);

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool huge_pages() const { return huge_pages_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool huge_pages_ = false;
};

inline constexpr uint64_t align_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace moestream
