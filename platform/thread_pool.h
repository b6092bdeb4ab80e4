// A fixed pool of worker threads: fire-and-forget tasks and a blocking parallel_for.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace moestream {

// Owns its worker threads; the destructor runs every queued task, then joins. Tasks must keep
// alive whatever they capture. Thread-safe: submit() and parallel_for() may be called
// concurrently from any thread, including a worker.
class ThreadPool {
 public:
  // threads == 0 picks std::thread::hardware_concurrency().
  explicit ThreadPool(size_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }

  std::future<void> submit(std::function<void()> task);

  // Splits [0, count) into at most size() contiguous chunks and runs
  // fn(begin, end, chunk_index) on them; the calling thread runs one chunk itself, so this
  // never deadlocks when called from inside a worker.
  void parallel_for(size_t count, const std::function<void(size_t, size_t, size_t)>& fn);

 private:
  void worker_loop();

  std::vector<std::thread> workers_;
  std::deque<std::packaged_task<void()>> queue_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace moestream
