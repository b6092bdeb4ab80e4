// Reads expert blobs from the container into caller-owned slot buffers. Each blob is split
// into requests of `request_size` bytes; a dedicated I/O thread keeps up to `queue_depth` of
// them in flight, retries EIO and short reads a bounded number of times, and hands finished
// blobs to a thread pool that checks the xxh3 checksum and decompresses zstd blobs (read into
// a staging buffer first) before the completion callback fires. Urgent (demand) jobs go ahead
// of queued prefetches, and a prefetch read starts only while no demand read is waiting or
// under way: when the device is the bottleneck, a prefetch that shares its bandwidth with a
// demand read delays the step by what it takes (issue 26 measured prefetch losing to none).
// Reads already in flight cannot be recalled, so prefetches go in small requests, few at a
// time: a demand read that arrives shares the device with at most prefetch_in_flight x
// prefetch_request_size bytes (8 MiB by default, ~3 ms on a 2.5 GB/s disk) instead of up to
// queue_depth whole experts. A started prefetch that a demand asks for is promoted too: its
// remaining requests go ahead as a demand read's.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "format/container_reader.h"
#include "offload/read_backend.h"
#include "platform/aligned_buffer.h"
#include "platform/status.h"
#include "platform/thread_pool.h"

namespace moestream {

// Whole blobs in one request (64 MiB is more than any expert blob) at 8 in flight: the highest
// loader bandwidth in `bench loader` sweeps on a full-width model (docs/streaming.md);
// 256 KiB - 4 MiB requests reached only 1.3 - 1.7 GB/s there against 1.9 - 2.3 GB/s.
inline constexpr uint32_t kDefaultRequestSize = 64u << 20;
inline constexpr unsigned kDefaultQueueDepth = 8;

struct ExpertLoaderOptions {
  uint32_t request_size = kDefaultRequestSize;  // multiple of 4096
  unsigned queue_depth = kDefaultQueueDepth;
  // Prefetch (background) blobs: requests of at most this many bytes (multiple of 4096), at
  // most this many of them in flight.
  uint32_t prefetch_request_size = 4u << 20;
  unsigned prefetch_in_flight = 2;
  int max_attempts = 3;          // per request, for EIO and short reads
  bool verify_checksums = true;  // xxh3 of every blob as it lands
  bool force_pread = false;      // use the pread fallback even where io_uring works
  unsigned pread_threads = 4;
  unsigned worker_threads = 2;   // checksum + zstd
  double throttle_bytes_per_second = 0;  // > 0: simulated slow device
  // Compressed blobs land in staging buffers before decompression into their slot.
  uint64_t staging_buffer_size = 0;      // largest padded compressed blob; 0 = none needed
  unsigned staging_buffers = 4;
};

struct LoadJob {
  uint64_t id = 0;  // the caller's tag (e.g. a slot index), passed to the callback
  ExpertBlobInfo blob;
  uint8_t* destination = nullptr;  // >= raw_size bytes; >= padded_size for raw blobs; 4 KiB-aligned
  int destination_buffer = -1;     // index into the registered buffers, -1 = none
  bool urgent = false;             // demand load: goes ahead of queued prefetches, which wait
                                   // while any demand read is under way (see the top)
};

struct LoaderCounters {
  uint64_t blobs_loaded = 0;
  uint64_t blobs_failed = 0;
  uint64_t bytes_read = 0;       // from the device (padded, compressed where compressed)
  uint64_t bytes_delivered = 0;  // raw bytes handed to callers
  uint64_t requests = 0;
  uint64_t retries = 0;
  uint64_t cancelled = 0;  // prefetch jobs dropped before they started, or stopped part-way
  uint64_t busy_ns = 0;    // time with at least one read in flight (the device busy for us)
};

// Owns its backend, staging buffers, worker pool and I/O thread; destination buffers are
// the caller's and must outlive every job (the destructor waits for in-flight jobs). Thread-safe:
// submit(), drain(), counters() may be called concurrently (mutex_); the callback runs on a
// loader thread without the loader's lock.
class ExpertLoader {
 public:
  // Called once per job, from a loader thread, after the data is in place (ok) or with an
  // error naming the layer, expert and file. The destination is the caller's again then.
  using Callback = std::function<void(uint64_t id, const Status& status)>;

  // `buffers` are the caller's destinations (registered with io_uring when possible);
  // `backend` replaces the default one (tests inject faults, bench throttles).
  static Result<std::unique_ptr<ExpertLoader>> create(const std::string& path,
                                                      const ExpertLoaderOptions& options,
                                                      const std::vector<iovec>& buffers, Callback callback,
                                                      std::unique_ptr<ReadBackend> backend = nullptr);
  ~ExpertLoader();
  ExpertLoader(const ExpertLoader&) = delete;
  ExpertLoader& operator=(const ExpertLoader&) = delete;

  // Queues a batch; all of it is submitted together as queue depth allows.
  void submit(std::vector<LoadJob> jobs);
  // A prefetch job that has not started becomes a demand job (the layer now needs it): it goes
  // to the back of the demand queue instead of waiting for every demand read to finish.
  void promote(uint64_t id);
  // Stops a prefetch job. One that has not started is dropped without a callback (kDropped);
  // a started one issues no more requests and, once those in flight land, calls back with a
  // kCancelled status (kStopping; it may also finish first and call back ok). A demand job, or
  // one that finished, is left alone (kNone).
  enum class CancelResult { kNone, kDropped, kStopping };
  CancelResult cancel(uint64_t id);
  // Blocks until every job submitted so far has called back.
  void drain();

  const std::string& backend_description() const { return backend_description_; }
  // Why the io_uring + O_DIRECT path was not taken (empty when it was).
  const std::string& fallback_reason() const { return fallback_reason_; }
  LoaderCounters counters() const;
  uint64_t io_buffer_bytes() const;  // staging memory the loader owns
  const ExpertLoaderOptions& options() const { return options_; }

 private:
  struct ActiveJob;
  struct Chunk {
    ActiveJob* job;
    uint64_t offset;   // in the file
    uint8_t* buffer;
    uint32_t length;
    int attempts = 0;
  };

  ExpertLoader() = default;
  void io_loop();
  bool start_job(LoadJob job);  // false: waits for a staging buffer
  void issue_chunks();
  void promote_started(const std::vector<uint64_t>& ids);  // I/O thread
  void cancel_started(const std::vector<uint64_t>& ids);   // I/O thread
  void on_completion(const ReadCompletion& completion);
  void fail_job(ActiveJob* job, Status status);
  void fail_chunks(const std::vector<Chunk>& lost, const Status& status);
  void maybe_finish(ActiveJob* job);
  void finish_job(std::unique_ptr<ActiveJob> job);
  void note_in_flight();  // I/O thread, after in_flight_ changed: opens or closes a busy interval

  std::string path_;
  ExpertLoaderOptions options_;
  Callback callback_;
  std::unique_ptr<ReadBackend> backend_;
  std::string backend_description_;
  std::string fallback_reason_;
  std::vector<AlignedBuffer> staging_;
  int staging_buffer_base_ = -1;  // registered index of staging_[0]

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<LoadJob> urgent_, background_;  // submitted, not started
  std::vector<uint64_t> promote_started_;     // ids promoted after they started (I/O thread applies)
  std::vector<uint64_t> cancel_started_;      // prefetch ids to stop after they started (I/O thread applies)
  std::vector<uint64_t> started_prefetches_;  // prefetch ids started and not yet called back
  std::vector<int> free_staging_;
  uint64_t outstanding_ = 0;  // submitted, not yet called back
  bool stopping_ = false;
  LoaderCounters counters_;
  uint64_t busy_since_ns_ = 0;  // start of the open busy interval; 0 = nothing in flight

  // I/O thread only.
  std::vector<std::unique_ptr<ActiveJob>> active_;
  std::deque<Chunk> chunks_;  // ready to issue
  int64_t urgent_reading_ = 0;  // demand jobs started whose reads have not all completed
  std::vector<Chunk> in_flight_;
  std::vector<uint64_t> in_flight_tags_;  // parallel to in_flight_
  uint64_t next_tag_ = 1;

  std::unique_ptr<ThreadPool> workers_;
  std::unique_ptr<ThreadPool> background_workers_;  // prefetched blobs' checks, at idle priority
  std::thread io_thread_;
};

}  // namespace moestream
