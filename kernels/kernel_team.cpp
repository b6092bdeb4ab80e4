#include "kernels/kernel_team.h"

#include <chrono>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace moestream::kernels {
namespace {

// How long a worker (or the caller) spins before it sleeps: longer than the gaps between the
// products of one layer, short enough not to steal a shared machine's CPU for long.
constexpr auto kSpin = std::chrono::microseconds(200);

thread_local bool t_in_job = false;

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// Spins until pred() holds or kSpin passes; true if it holds.
template <typename Pred>
bool spin_until(Pred&& pred) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (pred()) return true;
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) return false;
  }
}

}  // namespace

KernelTeam::KernelTeam(int64_t threads) {
  for (int64_t i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

KernelTeam::~KernelTeam() {
  {
    const std::lock_guard<std::mutex> lock(busy_);
    stopping_ = true;
    epoch_.fetch_add(1);
    { const std::lock_guard<std::mutex> sleep(sleep_mutex_); }
    workers_cv_.notify_all();
  }
  for (auto& t : workers_) t.join();
}

void KernelTeam::run(int64_t pieces, FunctionRef<void(int64_t)> fn) {
  std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
  if (t_in_job || !lock.owns_lock() || workers_.empty() || pieces <= 1) {
    for (int64_t p = 0; p < pieces; ++p) fn(p);
    return;
  }
  // Every worker acknowledges every epoch (those without a piece at once), so none can lag a
  // job behind and read the next job's fields while they change.
  job_ = &fn;
  pieces_ = pieces;
  pending_.store(static_cast<int64_t>(workers_.size()));
  epoch_.fetch_add(1);
  if (sleeping_workers_.load() > 0) {
    { const std::lock_guard<std::mutex> sleep(sleep_mutex_); }
    workers_cv_.notify_all();
  }
  t_in_job = true;
  fn(0);
  t_in_job = false;
  if (!spin_until([&] { return pending_.load() == 0; })) {
    std::unique_lock<std::mutex> sleep(sleep_mutex_);
    caller_sleeping_.store(true);
    caller_cv_.wait(sleep, [&] { return pending_.load() == 0; });
    caller_sleeping_.store(false);
  }
  job_ = nullptr;
}

void KernelTeam::worker_loop(int64_t index) {
  // The epoch the team was built with, not a fresh load: the first job may be published
  // before this thread gets to run.
  uint64_t seen = 0;
  for (;;) {
    if (!spin_until([&] { return epoch_.load() != seen; })) {
      std::unique_lock<std::mutex> sleep(sleep_mutex_);
      sleeping_workers_.fetch_add(1);
      workers_cv_.wait(sleep, [&] { return epoch_.load() != seen; });
      sleeping_workers_.fetch_sub(1);
    }
    seen = epoch_.load();
    if (stopping_) return;
    if (index < pieces_) {
      t_in_job = true;
      (*job_)(index);
      t_in_job = false;
    }
    if (pending_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
      { const std::lock_guard<std::mutex> sleep(sleep_mutex_); }
      caller_cv_.notify_one();
    }
  }
}

}  // namespace moestream::kernels
