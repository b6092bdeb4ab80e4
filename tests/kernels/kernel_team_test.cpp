#include "kernels/kernel_team.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace moestream::kernels;

TEST_CASE("kernel team runs every piece of every job exactly once") {
  for (int64_t threads : {2, 3, 4}) {
    KernelTeam team(threads);
    CHECK(team.size() == threads);
    std::vector<std::atomic<int>> runs(static_cast<size_t>(threads));
    int64_t total = 0;
    for (int job = 0; job < 3000; ++job) {
      const int64_t pieces = 1 + job % threads;
      team.run(pieces, [&](int64_t p) { runs[static_cast<size_t>(p)]++; });
      total += pieces;
      int64_t sum = 0;
      for (auto& r : runs) sum += r.load();
      REQUIRE(sum == total);  // run() returned only after every piece finished
    }
  }
}

TEST_CASE("kernel team wakes sleeping workers, runs nested calls inline and shuts down while asleep") {
  KernelTeam team(2);
  std::atomic<int> done{0};
  for (int round = 0; round < 3; ++round) {
    // Longer than the spin, so the worker is asleep on the condition variable.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    team.run(2, [&](int64_t) { done++; });
  }
  CHECK(done.load() == 6);
  std::atomic<int> inner{0};
  std::vector<std::thread::id> inner_threads(2);
  team.run(2, [&](int64_t p) {
    const std::thread::id outer = std::this_thread::get_id();
    team.run(2, [&](int64_t) {
      inner++;
      inner_threads[static_cast<size_t>(p)] = std::this_thread::get_id();
    });
    CHECK(inner_threads[static_cast<size_t>(p)] == outer);  // nested: on the same thread
  });
  CHECK(inner.load() == 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
}  // the destructor joins a sleeping worker
