// Where the expert loader's reads go. A backend takes batches of reads of one file and
// completes them in any order: io_uring over O_DIRECT (the fast path), a pread thread pool
// (the fallback), or a wrapper around another backend (fault injection in tests, a simulated
// slow device in `bench loader`). Only the loader's I/O thread calls a backend.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "platform/status.h"

namespace moestream {

struct ReadRequest {
  uint64_t tag = 0;           // returned in the completion
  uint8_t* buffer = nullptr;  // 4 KiB-aligned for O_DIRECT
  uint32_t length = 0;
  uint64_t offset = 0;
  int buffer_index = -1;      // index into register_buffers(), -1 = not registered
};

struct ReadCompletion {
  uint64_t tag = 0;
  int32_t result = 0;  // bytes read (may be short), or -errno
};

// Owns its file handle (and threads or ring). Request buffers are the caller's and must stay
// alive until their completion is returned. Not thread-safe: one thread (the loader's I/O
// thread) calls it.
class ReadBackend {
 public:
  virtual ~ReadBackend() = default;

  // One line for logs: "io_uring, O_DIRECT, 40 registered buffers, QD 32".
  virtual std::string describe() const = 0;
  virtual unsigned queue_depth() const = 0;
  virtual unsigned in_flight() const = 0;
  virtual bool direct_io() const = 0;

  // Buffers reads will land in; io_uring registers them (fixed buffers). Failure to register
  // is not an error: the backend reads into unregistered memory and says so in describe().
  virtual void register_buffers(const std::vector<iovec>& buffers) { (void)buffers; }

  // Starts the reads; at most queue_depth() - in_flight() of them.
  virtual Status submit(std::span<const ReadRequest> requests) = 0;
  // Appends completions, blocking until at least `min_complete` arrived.
  virtual Result<unsigned> wait(std::vector<ReadCompletion>& out, unsigned min_complete) = 0;
};

struct ReadBackendOptions {
  unsigned queue_depth = 32;
  bool force_pread = false;      // skip io_uring (tests, comparisons)
  unsigned pread_threads = 4;
};

// io_uring + O_DIRECT when both work, else a pread thread pool (O_DIRECT when the filesystem
// allows it). `fallback_reason` is set (once, for the caller to log) when the fast path was
// not taken.
Result<std::unique_ptr<ReadBackend>> open_read_backend(const std::string& path,
                                                       const ReadBackendOptions& options,
                                                       std::string* fallback_reason);

Result<std::unique_ptr<ReadBackend>> open_io_uring_backend(const std::string& path, unsigned queue_depth);
Result<std::unique_ptr<ReadBackend>> open_pread_backend(const std::string& path, unsigned queue_depth,
                                                        unsigned threads, std::string* note);

}  // namespace moestream
