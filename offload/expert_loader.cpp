#include "offload/expert_loader.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "format/expert_blob_codec.h"
#include "offload/throttled_read_backend.h"
#include "platform/clock.h"

namespace moestream {

struct ExpertLoader::ActiveJob {
  LoadJob job;
  uint8_t* read_target = nullptr;  // the destination, or a staging buffer for zstd blobs
  int staging = -1;
  uint64_t chunks_pending = 0;     // queued or in flight
  bool failed = false;
  Status error;
};

namespace {

std::string blob_name(const ExpertBlobInfo& b, const std::string& path) {
  return "layer " + std::to_string(b.layer) + " expert " + std::to_string(b.expert) + " (" + path + ")";
}

}  // namespace

Result<std::unique_ptr<ExpertLoader>> ExpertLoader::create(const std::string& path,
                                                           const ExpertLoaderOptions& options,
                                                           const std::vector<iovec>& buffers,
                                                           Callback callback,
                                                           std::unique_ptr<ReadBackend> backend) {
  if (options.request_size == 0 || options.request_size % kPageSize != 0) {
    return invalid_argument("request size must be a positive multiple of 4096, got " +
                            std::to_string(options.request_size));
  }
  if (options.prefetch_request_size == 0 || options.prefetch_request_size % kPageSize != 0) {
    return invalid_argument("prefetch request size must be a positive multiple of 4096, got " +
                            std::to_string(options.prefetch_request_size));
  }
  if (options.prefetch_in_flight == 0) return invalid_argument("prefetch requests in flight must be at least 1");
  if (options.queue_depth == 0 || options.queue_depth > 4096) {
    return invalid_argument("queue depth must be 1..4096, got " + std::to_string(options.queue_depth));
  }
  std::unique_ptr<ExpertLoader> loader(new ExpertLoader());
  loader->path_ = path;
  loader->options_ = options;
  loader->options_.max_attempts = std::max(1, options.max_attempts);
  loader->callback_ = std::move(callback);
  if (!backend) {
    ReadBackendOptions backend_options;
    backend_options.queue_depth = options.queue_depth;
    backend_options.force_pread = options.force_pread;
    backend_options.pread_threads = options.pread_threads;
    MOESTREAM_ASSIGN_OR_RETURN(backend, open_read_backend(path, backend_options, &loader->fallback_reason_));
  }
  if (options.throttle_bytes_per_second > 0) {
    backend = std::make_unique<ThrottledReadBackend>(std::move(backend), options.throttle_bytes_per_second);
  }
  std::vector<iovec> registered = buffers;
  if (options.staging_buffer_size > 0) {
    loader->staging_buffer_base_ = static_cast<int>(registered.size());
    for (unsigned i = 0; i < std::max(1u, options.staging_buffers); ++i) {
      MOESTREAM_ASSIGN_OR_RETURN(AlignedBuffer b, AlignedBuffer::allocate(align_up(options.staging_buffer_size, kPageSize),
                                                                          kPageSize, /*huge_pages=*/true));
      registered.push_back({b.data(), b.size()});
      loader->free_staging_.push_back(static_cast<int>(i));
      loader->staging_.push_back(std::move(b));
    }
  }
  backend->register_buffers(registered);
  loader->backend_description_ = backend->describe();
  loader->backend_ = std::move(backend);
  loader->workers_ = std::make_unique<ThreadPool>(std::max(1u, options.worker_threads));
  // Prefetched blobs are checked on a thread that runs only when a core would otherwise idle
  // (SCHED_IDLE): a prefetch lands while the layers compute, and a 42 MiB checksum (4 ms of a
  // core) taken from a kernel team of two stalls both of its threads.
  loader->background_workers_ = std::make_unique<ThreadPool>(1);
  loader->background_workers_->submit([] {
    sched_param none{};
    (void)::sched_setscheduler(0, SCHED_IDLE, &none);  // this thread only; best effort
  });
  loader->io_thread_ = std::thread([l = loader.get()] { l->io_loop(); });
  return loader;
}

ExpertLoader::~ExpertLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    outstanding_ -= urgent_.size() + background_.size();  // never started: dropped
    urgent_.clear();
    background_.clear();
  }
  cv_.notify_all();
  if (io_thread_.joinable()) io_thread_.join();
  workers_.reset();  // runs the checksum/decompress tasks still queued
  background_workers_.reset();
}

void ExpertLoader::submit(std::vector<LoadJob> jobs) {
  if (jobs.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (LoadJob& j : jobs) (j.urgent ? urgent_ : background_).push_back(std::move(j));
    outstanding_ += jobs.size();
  }
  cv_.notify_all();
}

void ExpertLoader::promote(uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = std::find_if(background_.begin(), background_.end(), [&](const LoadJob& j) { return j.id == id; });
    if (it == background_.end()) {
      promote_started_.push_back(id);  // started already (or done: then the I/O thread finds nothing)
      std::erase(started_prefetches_, id);  // a demand job now: cancel() leaves it alone
      return;
    }
    LoadJob job = std::move(*it);
    background_.erase(it);
    job.urgent = true;
    urgent_.push_back(std::move(job));
  }
  cv_.notify_all();
}

ExpertLoader::CancelResult ExpertLoader::cancel(uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = std::find_if(background_.begin(), background_.end(), [&](const LoadJob& j) { return j.id == id; });
    if (it == background_.end()) {
      if (std::find(started_prefetches_.begin(), started_prefetches_.end(), id) == started_prefetches_.end()) {
        return CancelResult::kNone;
      }
      cancel_started_.push_back(id);
      cv_.notify_all();
      return CancelResult::kStopping;
    }
    background_.erase(it);
    --outstanding_;
    ++counters_.cancelled;
  }
  cv_.notify_all();  // drain() may be waiting for it
  return CancelResult::kDropped;
}

void ExpertLoader::drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return outstanding_ == 0; });
}

LoaderCounters ExpertLoader::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  LoaderCounters c = counters_;
  if (busy_since_ns_ != 0) c.busy_ns += now_ns() - busy_since_ns_;  // the interval still open
  return c;
}

uint64_t ExpertLoader::io_buffer_bytes() const {
  uint64_t total = 0;
  for (const AlignedBuffer& b : staging_) total += b.size();
  return total;
}

bool ExpertLoader::start_job(LoadJob job) {
  auto active = std::make_unique<ActiveJob>();
  active->job = job;
  const ExpertBlobInfo& b = job.blob;
  if (b.compression == BlobCompression::kNone) {
    active->read_target = job.destination;
  } else {
    if (free_staging_.empty()) return false;
    active->staging = free_staging_.back();
    free_staging_.pop_back();
    active->read_target = staging_[active->staging].data();
  }
  std::deque<Chunk> chunks;
  const uint64_t request = job.urgent ? options_.request_size
                                      : std::min(options_.request_size, options_.prefetch_request_size);
  for (uint64_t done = 0; done < b.padded_size; done += request) {
    const auto length = static_cast<uint32_t>(std::min<uint64_t>(request, b.padded_size - done));
    chunks.push_back({active.get(), b.offset + done, active->read_target + done, length, 0});
  }
  active->chunks_pending = chunks.size();
  if (job.urgent) ++urgent_reading_;
  // Demand chunks go ahead of the prefetch chunks already queued.
  if (job.urgent) {
    chunks_.insert(chunks_.begin(), chunks.begin(), chunks.end());
  } else {
    chunks_.insert(chunks_.end(), chunks.begin(), chunks.end());
  }
  active_.push_back(std::move(active));
  return true;
}

void ExpertLoader::promote_started(const std::vector<uint64_t>& ids) {
  for (const uint64_t id : ids) {
    for (const auto& active : active_) {
      if (active->job.id != id || active->job.urgent) continue;
      active->job.urgent = true;
      ++urgent_reading_;
      // Its requests not yet issued move ahead of every prefetch's, in their order.
      std::stable_partition(chunks_.begin(), chunks_.end(), [](const Chunk& c) { return c.job->job.urgent; });
    }
  }
}

void ExpertLoader::cancel_started(const std::vector<uint64_t>& ids) {
  for (const uint64_t id : ids) {
    for (const auto& active : active_) {
      if (active->job.id != id || active->job.urgent || active->failed) continue;
      // Its requests not yet issued are dropped; it calls back once those in flight land.
      fail_job(active.get(), cancelled("prefetch of " + blob_name(active->job.blob, path_) + " cancelled"));
      maybe_finish(active.get());
      break;
    }
  }
}

void ExpertLoader::issue_chunks() {
  std::vector<ReadRequest> requests;
  unsigned prefetch_in_flight = 0;
  for (const Chunk& c : in_flight_) prefetch_in_flight += c.job->job.urgent ? 0 : 1;
  while (!chunks_.empty() && backend_->in_flight() + requests.size() < backend_->queue_depth()) {
    // Demand chunks are at the front; a prefetch chunk waits while any demand job is reading,
    // so that it does not take a share of the device's bandwidth from the critical path, and
    // while prefetch_in_flight of them are in flight.
    if (!chunks_.front().job->job.urgent) {
      if (urgent_reading_ > 0 || prefetch_in_flight >= options_.prefetch_in_flight) break;
      ++prefetch_in_flight;
    }
    Chunk c = chunks_.front();
    chunks_.pop_front();
    const uint64_t tag = next_tag_++;
    const ActiveJob& job = *c.job;
    const int index = job.staging >= 0 ? staging_buffer_base_ + job.staging : job.job.destination_buffer;
    requests.push_back({tag, c.buffer, c.length, c.offset, index});
    in_flight_.push_back(c);
    in_flight_tags_.push_back(tag);
  }
  if (requests.empty()) return;
  Status s = backend_->submit(requests);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    counters_.requests += requests.size();
  }
  if (!s.ok()) {
    // Nothing of this batch reached the device: fail the jobs it belonged to.
    std::vector<Chunk> lost(in_flight_.end() - static_cast<std::ptrdiff_t>(requests.size()), in_flight_.end());
    in_flight_.resize(in_flight_.size() - requests.size());
    in_flight_tags_.resize(in_flight_tags_.size() - requests.size());
    fail_chunks(lost, s);
  }
}

void ExpertLoader::fail_chunks(const std::vector<Chunk>& lost, const Status& status) {
  std::vector<ActiveJob*> jobs;
  for (const Chunk& c : lost) {
    --c.job->chunks_pending;
    if (!c.job->failed) fail_job(c.job, status.with_context(blob_name(c.job->job.blob, path_)));
    if (std::find(jobs.begin(), jobs.end(), c.job) == jobs.end()) jobs.push_back(c.job);
  }
  for (ActiveJob* j : jobs) maybe_finish(j);
}

void ExpertLoader::fail_job(ActiveJob* job, Status status) {
  job->failed = true;
  job->error = std::move(status);
  // Drop its chunks that were not issued yet.
  for (auto it = chunks_.begin(); it != chunks_.end();) {
    if (it->job == job) {
      --job->chunks_pending;
      it = chunks_.erase(it);
    } else {
      ++it;
    }
  }
}

void ExpertLoader::on_completion(const ReadCompletion& completion) {
  auto pos = std::find(in_flight_tags_.begin(), in_flight_tags_.end(), completion.tag);
  if (pos == in_flight_tags_.end()) return;  // not ours (cannot happen)
  const size_t i = static_cast<size_t>(pos - in_flight_tags_.begin());
  Chunk c = in_flight_[i];
  in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(i));
  in_flight_tags_.erase(pos);
  note_in_flight();  // before the job can finish: drain() returns with the busy interval closed
  ActiveJob* job = c.job;
  const ExpertBlobInfo& b = job->job.blob;
  // The padding after the last blob may lie past the end of the file: only the stored bytes count.
  const uint64_t needed = std::min<uint64_t>(c.length, b.offset + b.stored_size - c.offset);
  const bool good = completion.result >= 0 && static_cast<uint64_t>(completion.result) >= needed;
  if (good) {
    std::lock_guard<std::mutex> lock(mutex_);
    counters_.bytes_read += static_cast<uint64_t>(completion.result);
  }
  if (good || job->failed) {
    --job->chunks_pending;
    maybe_finish(job);
    return;
  }
  const std::string what = completion.result < 0
                               ? errno_status(-completion.result, "read").message()
                               : "short read (" + std::to_string(completion.result) + " of " +
                                     std::to_string(c.length) + " bytes)";
  if (c.attempts + 1 < options_.max_attempts) {
    ++c.attempts;
    chunks_.push_front(c);
    std::lock_guard<std::mutex> lock(mutex_);
    ++counters_.retries;
    return;
  }
  --job->chunks_pending;
  fail_job(job, io_error(blob_name(b, path_) + ": " + what + " at offset " + std::to_string(c.offset) +
                         " after " + std::to_string(c.attempts + 1) + " attempts"));
  maybe_finish(job);
}

void ExpertLoader::maybe_finish(ActiveJob* job) {
  if (job->chunks_pending != 0) return;
  if (job->job.urgent) --urgent_reading_;
  auto it = std::find_if(active_.begin(), active_.end(), [&](const auto& p) { return p.get() == job; });
  std::unique_ptr<ActiveJob> owned = std::move(*it);
  active_.erase(it);
  finish_job(std::move(owned));
}

void ExpertLoader::finish_job(std::unique_ptr<ActiveJob> job) {
  auto complete = [this](ActiveJob& j, const Status& status) {
    callback_(j.job.id, status);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (j.staging >= 0) free_staging_.push_back(j.staging);
      if (status.ok()) {
        ++counters_.blobs_loaded;
        counters_.bytes_delivered += j.job.blob.raw_size;
      } else if (status.code() == ErrorCode::kCancelled) {
        ++counters_.cancelled;
      } else {
        ++counters_.blobs_failed;
      }
      std::erase(started_prefetches_, j.job.id);
      --outstanding_;
    }
    cv_.notify_all();
  };
  if (job->failed) {
    complete(*job, job->error);
    return;
  }
  // Checksum and decompression run on the workers so the I/O thread keeps the queue full.
  std::shared_ptr<ActiveJob> shared(std::move(job));
  ThreadPool& pool = shared->job.urgent ? *workers_ : *background_workers_;
  pool.submit([this, shared, complete] {
    ActiveJob& j = *shared;
    const ExpertBlobInfo& b = j.job.blob;
    Status status;
    if (options_.verify_checksums) {
      status = verify_expert_blob(b, j.read_target, path_);
      if (!status.ok()) status = corrupt(status.message() + "; the data was not used");
    }
    // Uncompressed blobs were read straight into the slot: decode copies nothing then.
    if (status.ok()) status = decode_expert_blob(b, j.read_target, j.job.destination, path_);
    complete(j, status);
  });
}

void ExpertLoader::io_loop() {
  // This thread does little work, but each wake-up to refill the queue is on the read path:
  // ask for a higher priority than the compute threads (ignored where not permitted).
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), -10);
  std::vector<ReadCompletion> completions;
  std::vector<uint64_t> promoted, stopped;
  const auto startable = [this] {
    for (const std::deque<LoadJob>* q : {&urgent_, &background_}) {
      if (q->empty()) continue;
      if (q->front().blob.compression == BlobCompression::kNone || !free_staging_.empty()) return true;
    }
    return false;
  };
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (in_flight_.empty() && chunks_.empty()) {
        cv_.wait(lock, [&] { return stopping_ || startable(); });
        if (stopping_ && !startable()) break;
      }
      promoted.swap(promote_started_);
      stopped.swap(cancel_started_);
      // Start jobs lazily, only as far as the queue needs: a demand job that arrives later
      // still goes ahead of prefetches that have not started.
      while (chunks_.size() < backend_->queue_depth()) {
        std::deque<LoadJob>* q = nullptr;
        for (std::deque<LoadJob>* candidate : {&urgent_, &background_}) {
          // Prefetches start only when no demand read is waiting or under way.
          if (candidate == &background_ && (!urgent_.empty() || urgent_reading_ > 0)) continue;
          if (!candidate->empty() &&
              (candidate->front().blob.compression == BlobCompression::kNone || !free_staging_.empty())) {
            q = candidate;
            break;
          }
        }
        if (q == nullptr) break;
        LoadJob job = q->front();
        q->pop_front();
        if (!job.urgent) started_prefetches_.push_back(job.id);
        start_job(job);
      }
    }
    if (!stopped.empty()) {
      cancel_started(stopped);
      stopped.clear();
    }
    if (!promoted.empty()) {
      promote_started(promoted);
      promoted.clear();
    }
    issue_chunks();
    note_in_flight();
    if (in_flight_.empty()) continue;
    completions.clear();
    auto got = backend_->wait(completions, 1);
    if (!got.ok()) {
      // The ring itself failed: every read in flight is lost.
      std::vector<Chunk> lost = std::move(in_flight_);
      in_flight_.clear();
      in_flight_tags_.clear();
      note_in_flight();
      fail_chunks(lost, got.status());
      continue;
    }
    for (const ReadCompletion& c : completions) on_completion(c);  // each notes its own
  }
}

void ExpertLoader::note_in_flight() {
  const bool busy = !in_flight_.empty();
  if (busy == (busy_since_ns_ != 0)) return;
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t now = now_ns();
  if (busy) {
    busy_since_ns_ = now;
  } else {
    counters_.busy_ns += now - busy_since_ns_;
    busy_since_ns_ = 0;
  }
}

}  // namespace moestream
