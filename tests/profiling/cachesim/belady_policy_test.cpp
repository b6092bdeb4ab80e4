#include "profiling/cachesim/belady_policy.h"

#include <doctest/doctest.h>

#include "tiny_traces.h"

using namespace moestream::cachesim;

TEST_CASE("OPT on the paging sequence with 2 slots hits 4 times (the most possible)") {
  // 8 accesses to 4 distinct keys: at least 4 misses. OPT keeps 0 and 1 and bypasses 2
  // and 3, which are never used again.
  BeladyPolicy opt(4, 2);
  CHECK(testing::count_hits(opt, testing::kPagingSequence) == 4);
  CHECK(opt.contains(0));
  CHECK(opt.contains(1));
}

TEST_CASE("OPT that must admit every miss hits 3 times on the paging sequence") {
  // 0m 1m 0h 2m(evicts 1, next used at 6, after 0 at 4) 0h 3m(evicts 2: never again)
  // 1m(evicts 3) 0h
  BeladyPolicy opt(4, 2, /*allow_bypass=*/false);
  CHECK(testing::count_hits(opt, testing::kPagingSequence) == 3);
}

TEST_CASE("OPT evicts the key used farthest in the future") {
  // 0 1 2 0 1 with 2 slots: 2 is never used again, so it is bypassed; 0h 1h.
  BeladyPolicy opt(3, 2);
  CHECK(testing::count_hits(opt, {0, 1, 2, 0, 1}) == 2);
  // 0 1 2 2 0 with 2 slots: at 2 (next use 3) evict 1 (never used again); 2h 0h.
  BeladyPolicy opt2(3, 2);
  CHECK(testing::count_hits(opt2, {0, 1, 2, 2, 0}) == 2);
  CHECK_FALSE(opt2.contains(1));
}
