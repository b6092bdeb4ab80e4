#include "platform/page_release.h"

#include <sys/mman.h>

#include "platform/aligned_buffer.h"

namespace moestream {

void release_mapped_range(const MappedFile& file, uint64_t offset, uint64_t size) {
  if (offset >= file.size()) return;
  if (size > file.size() - offset) size = file.size() - offset;
  // Only whole pages inside the range: neighbours may still be in use.
  const uint64_t begin = align_up(offset, kPageSize);
  const uint64_t end = (offset + size) / kPageSize * kPageSize;
  if (end <= begin) return;
  ::madvise(const_cast<uint8_t*>(file.data()) + begin, end - begin, MADV_DONTNEED);
}

}  // namespace moestream
