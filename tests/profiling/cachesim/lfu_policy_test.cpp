#include "profiling/cachesim/lfu_policy.h"

#include <doctest/doctest.h>

#include "tiny_traces.h"

using namespace moestream::cachesim;

TEST_CASE("LFU keeps the most used key: 3 hits on the paging sequence with 2 slots") {
  // counts: 0 reaches 2 early and is never evicted; 2, 3 and 1 take turns in the other slot.
  LfuPolicy lfu(4, 2);
  CHECK(testing::count_hits(lfu, testing::kPagingSequence) == 3);
}

TEST_CASE("LFU remembers counts of evicted keys") {
  // 1m 1h 1h 0m 2m(evicts 0: count 1 against 1's 3) 3m(evicts 2) 1h
  LfuPolicy lfu(4, 2);
  CHECK(testing::count_hits(lfu, {1, 1, 1, 0, 2, 3, 1}) == 3);
}
