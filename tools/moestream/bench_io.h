// The I/O bound the benchmarks compare against, measured in the same run: fio over the
// container's expert region with the loader's request size and queue depth, and an opt-in
// drop of the page cache before it.
#pragma once

#include <cstdint>
#include <string>

#include "platform/status.h"

namespace moestream::cli {

// Syncs and drops the whole page cache when permitted; says what it did.
std::string drop_page_cache();

// fio over [offset, offset + size) of `path`: random reads of `request` bytes at `depth` with
// O_DIRECT and io_uring, for `seconds`; bytes per second. With `run_length` > 1 fio jumps to a
// random offset only every `run_length` requests and reads sequentially in between: random
// blob-sized extents read in request-size pieces, which is what the loader does. The command
// line goes to *command_out. unsupported() when fio is missing or fails.
Result<double> run_fio(const std::string& path, uint64_t offset, uint64_t size, uint64_t request, unsigned depth,
                       double seconds, uint64_t run_length, std::string* command_out);

}  // namespace moestream::cli
