// Measuring helpers the benchmarks share: median and spread of repeated runs, calls per
// second over a time slice, and a STREAM-style triad on the kernel pool (the memory-bandwidth
// bound the kernel and attention benchmarks report their ratios against, in the same run).
#pragma once

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/kernel_threads.h"
#include "platform/clock.h"

namespace moestream::cli {

struct Stats {
  double median = 0, min = 0, max = 0;
};

inline Stats stats_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return {n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v.front(), v.back()};
}

// Calls fn(i) with i = 0, 1, ... for about `seconds`; returns calls per second.
template <typename Fn>
double rate(double seconds, Fn&& fn) {
  fn(0);  // warm-up
  const Stopwatch watch;
  int64_t calls = 0;
  while (calls < 3 || watch.elapsed_seconds() < seconds) fn(++calls);
  return static_cast<double>(calls) / watch.elapsed_seconds();
}

// STREAM triad a = b + s c on the kernel pool, counted as 3 arrays x 8 bytes per element.
class Triad {
 public:
  explicit Triad(int64_t mb) : n_(mb * (1 << 20) / 8), a_(new double[n_]), b_(new double[n_]), c_(new double[n_]) {
    kernels::parallel_rows(n_, 4096, INT64_MAX, [&](int64_t lo, int64_t hi) {  // first touch on the pool
      for (int64_t i = lo; i < hi; ++i) a_[i] = 0.0, b_[i] = 1.0, c_[i] = 2.0;
    });
  }
  // GB/s of one measurement of about `seconds`.
  double measure(double seconds) {
    const double per_s = rate(seconds, [&](int64_t) {
      kernels::parallel_rows(n_, 4096, INT64_MAX, [&](int64_t lo, int64_t hi) {
        const double s = 3.0;
        for (int64_t i = lo; i < hi; ++i) a_[i] = b_[i] + s * c_[i];
      });
    });
    return per_s * 3.0 * 8.0 * static_cast<double>(n_) / 1e9;
  }

 private:
  int64_t n_;
  std::unique_ptr<double[]> a_, b_, c_;
};

// Reading one large array on the kernel pool (a sum of 64-bit words, counted as 8 bytes per
// element): the bandwidth a read-only workload such as a decode step's weight streams can have.
// The triad also writes, and on a shared host the two can differ by a third.
class ReadStream {
 public:
  explicit ReadStream(int64_t mb) : n_(mb * (1 << 20) / 8), a_(new uint64_t[n_]) {
    kernels::parallel_rows(n_, 4096, INT64_MAX, [&](int64_t lo, int64_t hi) {  // first touch on the pool
      for (int64_t i = lo; i < hi; ++i) a_[i] = static_cast<uint64_t>(i);
    });
  }
  double measure(double seconds) {
    const double per_s = rate(seconds, [&](int64_t) {
      kernels::parallel_rows(n_, 4096, INT64_MAX, [&](int64_t lo, int64_t hi) {
        uint64_t sum = 0;
        for (int64_t i = lo; i < hi; ++i) sum += a_[i];
        sink_.fetch_add(sum, std::memory_order_relaxed);  // keeps the loop
      });
    });
    return per_s * 8.0 * static_cast<double>(n_) / 1e9;
  }

 private:
  int64_t n_;
  std::unique_ptr<uint64_t[]> a_;
  std::atomic<uint64_t> sink_{0};
};

}  // namespace moestream::cli
