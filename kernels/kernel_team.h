// A fixed team of worker threads for the kernels' row splits. A forward pass makes thousands
// of small parallel calls per token (every projection, every expert), so the hand-off must
// cost microseconds: workers spin briefly on an epoch counter after each job before they
// sleep on a condition variable, and the caller publishes a job with one atomic increment
// (and a notify only if somebody sleeps). A std::future-based pool cost 30-49 us per call on
// the dev machine, this about 2 us (docs/kernels.md, run 6).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "platform/function_ref.h"

namespace moestream::kernels {

class KernelTeam {
 public:
  // `threads` in total, the caller included (threads - 1 workers are started).
  explicit KernelTeam(int64_t threads);
  ~KernelTeam();
  KernelTeam(const KernelTeam&) = delete;
  KernelTeam& operator=(const KernelTeam&) = delete;

  int64_t size() const { return static_cast<int64_t>(workers_.size()) + 1; }

  // Runs fn(piece) for every piece in [0, pieces), pieces <= size(): piece 0 on the calling
  // thread, piece i on worker i. Returns when all are done. A call from inside a job, or
  // while another thread is using the team, runs every piece on the calling thread.
  void run(int64_t pieces, FunctionRef<void(int64_t)> fn);

 private:
  void worker_loop(int64_t index);

  std::vector<std::thread> workers_;
  std::mutex busy_;                 // one caller at a time
  std::atomic<uint64_t> epoch_{0};   // bumped once per job
  std::atomic<int64_t> pending_{0};  // workers that have not finished this epoch's job
  const FunctionRef<void(int64_t)>* job_ = nullptr;  // written before the epoch bump
  int64_t pieces_ = 0;
  bool stopping_ = false;
  // The slow path: sleepers register (sequentially consistent) before they check and wait, so
  // a notifier that sees no sleeper is ordered before their check and they see its change.
  std::mutex sleep_mutex_;
  std::condition_variable workers_cv_, caller_cv_;
  std::atomic<int64_t> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
};

}  // namespace moestream::kernels
