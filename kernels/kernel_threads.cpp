#include "kernels/kernel_threads.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "kernels/kernel_team.h"

namespace moestream::kernels {
namespace {

constexpr int64_t kPiecesPerThread = 4;

std::mutex g_mutex;
int64_t g_threads = 0;                // 0: not chosen yet (hardware concurrency)
std::unique_ptr<KernelTeam> g_pool;  // created on first parallel use

int64_t resolved(int64_t threads) {
  if (threads > 0) return threads;
  return std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
}

KernelTeam* pool() {
  std::lock_guard<std::mutex> lock(g_mutex);
  const int64_t want = resolved(g_threads);
  if (want <= 1) return nullptr;
  if (!g_pool || static_cast<int64_t>(g_pool->size()) != want) {
    g_pool = std::make_unique<KernelTeam>(want);
  }
  return g_pool.get();
}

}  // namespace

void set_kernel_threads(int64_t threads) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_threads = std::max<int64_t>(0, threads);
  if (g_pool && static_cast<int64_t>(g_pool->size()) != resolved(g_threads)) g_pool.reset();
}

int64_t kernel_threads() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return resolved(g_threads);
}

void parallel_rows(int64_t count, int64_t grain, int64_t work,
                   FunctionRef<void(int64_t, int64_t)> fn) {
  if (count <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t units = (count + grain - 1) / grain;
  KernelTeam* team = (work < kMinParallelWork || units < 2) ? nullptr : pool();
  if (team == nullptr) {
    fn(0, count);
    return;
  }
  // Pieces of about a quarter of an equal share, taken by whichever thread is free: a thread
  // that another process slows takes fewer, instead of the whole call waiting for its fixed
  // share (issue 26: with equal splits the FP8 GEMV swung between 0.49 and 0.86 x triad).
  const int64_t ways = std::min(units, team->size());
  const int64_t per = (units + ways * kPiecesPerThread - 1) / (ways * kPiecesPerThread);
  const int64_t pieces = (units + per - 1) / per;
  std::atomic<int64_t> next{0};
  team->run(ways, [&](int64_t) {
    for (int64_t p = next.fetch_add(1, std::memory_order_relaxed); p < pieces;
         p = next.fetch_add(1, std::memory_order_relaxed)) {
      fn(p * per * grain, std::min(count, (p + 1) * per * grain));
    }
  });
}

void parallel_units(int64_t units, int64_t work, FunctionRef<void(int64_t, int64_t)> fn) {
  if (units <= 0) return;
  KernelTeam* team = (work < kMinParallelWork || units < 2) ? nullptr : pool();
  if (team == nullptr) {
    for (int64_t u = 0; u < units; ++u) fn(u, 0);
    return;
  }
  std::atomic<int64_t> next{0};
  team->run(std::min(units, team->size()), [&](int64_t worker) {
    for (int64_t u = next.fetch_add(1, std::memory_order_relaxed); u < units;
         u = next.fetch_add(1, std::memory_order_relaxed)) {
      fn(u, worker);
    }
  });
}

}  // namespace moestream::kernels
