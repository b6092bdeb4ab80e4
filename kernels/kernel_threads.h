// The process-wide worker pool the matmul kernels split their output rows over. Its size is
// a setting (`--threads`, default: hardware concurrency); every caller of the kernels shares
// it, so a benchmark's memory-bandwidth reference and the kernels run on the same threads.
#pragma once

#include <cstdint>
#include "platform/function_ref.h"

namespace moestream::kernels {

// 0 = std::thread::hardware_concurrency(). Takes effect for the next kernel call; must not
// be called while another thread is inside a kernel.
void set_kernel_threads(int64_t threads);
int64_t kernel_threads();

// Runs fn(begin, end) over contiguous pieces of [0, count) on the kernel pool (the caller
// included): about 4 pieces per thread, each taken by whichever thread is free. Pieces are
// multiples of `grain` except the last. Runs inline when the
// pool has one thread or `work` (a rough cost, e.g. weight bytes) is below `min_parallel_work`.
void parallel_rows(int64_t count, int64_t grain, int64_t work,
                   FunctionRef<void(int64_t, int64_t)> fn);

// Runs fn(unit, worker) for every unit in [0, units), handing units out one at a time to
// whichever pool thread is free (the caller included), so units of unequal cost balance and a
// thread slowed by another process simply takes fewer. `worker` < kernel_threads() indexes
// per-thread scratch. Inline (worker 0) below `min_parallel_work` or with one thread.
void parallel_units(int64_t units, int64_t work, FunctionRef<void(int64_t, int64_t)> fn);

// Below this much work (bytes of weights touched, roughly) a split costs more than it saves.
inline constexpr int64_t kMinParallelWork = 256 * 1024;

}  // namespace moestream::kernels
