// The I/O bound the benchmarks compare against, measured in the same run: fio over the
// container's expert region with the loader's request size and queue depth, and an opt-in
// drop of the page cache before it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/container_reader.h"
#include "platform/status.h"

namespace moestream::cli {

// Every routed-expert blob of a container (the MTP layer's included) and the file range they
// span, where fio reads.
struct ExpertBlobs {
  std::vector<ExpertBlobInfo> blobs;
  uint64_t region_begin = ~0ull, region_end = 0;
  uint64_t raw_total = 0, stored_total = 0;
  uint64_t largest_raw = 0, largest_padded = 0;
};

// kInvalidArgument when the container has no routed experts.
Result<ExpertBlobs> expert_blobs(const ContainerReader& reader);

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
