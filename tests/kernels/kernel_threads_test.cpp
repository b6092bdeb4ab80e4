#include "kernels/kernel_threads.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <chrono>
#include <thread>
#include <vector>

using namespace moestream::kernels;

TEST_CASE("parallel_rows covers every row once, in grain-aligned pieces") {
  for (int64_t threads : {1, 2, 3}) {
    set_kernel_threads(threads);
    CHECK(kernel_threads() == threads);
    for (int64_t count : {1, 7, 8, 9, 100, 1001}) {
      std::vector<std::atomic<int>> seen(static_cast<size_t>(count));
      std::mutex m;
      std::vector<std::pair<int64_t, int64_t>> pieces;
      parallel_rows(count, 8, kMinParallelWork, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) seen[i]++;
        std::lock_guard<std::mutex> lock(m);
        pieces.emplace_back(b, e);
      });
      for (auto& s : seen) CHECK(s.load() == 1);
      for (auto [b, e] : pieces) CHECK((b % 8 == 0 && e > b));
      // About 4 pieces per thread (taken dynamically), never more than the grain allows.
      CHECK(static_cast<int64_t>(pieces.size()) <= std::max<int64_t>(1, threads * 4) + 1);
      CHECK(static_cast<int64_t>(pieces.size()) <= (count + 7) / 8);
    }
  }
  set_kernel_threads(0);
  CHECK(kernel_threads() >= 1);
}

TEST_CASE("parallel_rows runs small work inline") {
  set_kernel_threads(2);
  int calls = 0;
  parallel_rows(100, 1, 10, [&](int64_t b, int64_t e) {
    ++calls;
    CHECK(b == 0);
    CHECK(e == 100);
  });
  CHECK(calls == 1);
  set_kernel_threads(0);
}

TEST_CASE("parallel_rows and parallel_units: a slow thread takes fewer pieces, every piece runs once") {
  set_kernel_threads(2);
  // One thread sleeps in its first piece: the other must take the rest instead of waiting
  // with its fixed half done.
  std::atomic<int> pieces_run{0};
  std::vector<std::atomic<int>> seen(4096);
  std::atomic<bool> slept{false};
  parallel_rows(4096, 8, int64_t{1} << 30, [&](int64_t b, int64_t e) {
    if (!slept.exchange(true)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (int64_t i = b; i < e; ++i) seen[static_cast<size_t>(i)]++;
    ++pieces_run;
  });
  for (auto& s : seen) CHECK(s.load() == 1);
  CHECK(pieces_run.load() >= 8);
  std::vector<std::atomic<int>> units(37);
  parallel_units(37, int64_t{1} << 30, [&](int64_t u, int64_t worker) {
    CHECK(worker >= 0);
    CHECK(worker < 2);
    units[static_cast<size_t>(u)]++;
  });
  for (auto& u : units) CHECK(u.load() == 1);
  set_kernel_threads(0);
}
