// Drops this process's mapping of file pages it has finished reading (MADV_DONTNEED on a
// read-only file mapping: the data stays in the page cache, RSS goes down). Streaming passes
// over a whole container (verify, export-hf) use it to keep RSS bounded on a 700 GB file.
#pragma once

#include <cstdint>

#include "platform/mapped_file.h"

namespace moestream {

void release_mapped_range(const MappedFile& file, uint64_t offset, uint64_t size);

}  // namespace moestream
