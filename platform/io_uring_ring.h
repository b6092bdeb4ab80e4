// A thin io_uring wrapper (liburing): registered buffers and files, many reads queued and
// submitted in one batch, completions reaped in bulk, errors mapped to Status.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "platform/status.h"

struct io_uring;

namespace moestream {

struct IoCompletion {
  uint64_t user_data = 0;
  int32_t result = 0;  // bytes transferred, or -errno
};

// Owns the io_uring instance (torn down in the destructor). Registered buffers and files are
// the caller's: they must stay alive while registered or while reads into them are in flight.
// Not thread-safe: one thread at a time (one issuer, matching SINGLE_ISSUER).
class IoUringRing {
 public:
  struct Options {
    unsigned queue_depth = 32;
    // SINGLE_ISSUER | COOP_TASKRUN when the kernel accepts them (falls back silently).
    bool single_issuer = true;
  };

  IoUringRing();
  ~IoUringRing();
  IoUringRing(IoUringRing&& other) noexcept;
  IoUringRing& operator=(IoUringRing&& other) noexcept;
  IoUringRing(const IoUringRing&) = delete;
  IoUringRing& operator=(const IoUringRing&) = delete;

  // Fails with kUnsupported (and a reason) where io_uring is disabled or blocked
  // (old kernel, seccomp, io_uring_disabled sysctl).
  static Result<IoUringRing> create(const Options& options);

  unsigned queue_depth() const { return queue_depth_; }
  unsigned in_flight() const { return in_flight_; }

  // Registered (fixed) buffers skip the per-I/O page pinning; index them in queue_read().
  Status register_buffers(const std::vector<iovec>& buffers);
  // Registered files skip the per-I/O fd lookup; pass the index as fd with fixed_file=true.
  Status register_files(const std::vector<int>& fds);

  // Queues one read (not yet submitted). kOutOfMemory if the submission queue is full:
  // submit() and reap first.
  Status queue_read(int fd, void* buffer, uint32_t length, uint64_t offset, uint64_t user_data,
                    int fixed_buffer_index = -1, bool fixed_file = false);
  // Submits everything queued; returns how many were submitted.
  Result<unsigned> submit();
  // Appends completions to `out`, waiting until at least `min_complete` are available
  // (0 = only what is ready). Returns the number appended.
  Result<unsigned> reap(std::vector<IoCompletion>& out, unsigned min_complete);

 private:
  std::unique_ptr<io_uring> ring_;
  unsigned queue_depth_ = 0;
  unsigned queued_ = 0;
  unsigned in_flight_ = 0;
};

}  // namespace moestream
