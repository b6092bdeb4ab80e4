#include "profiling/cachesim/lru_policy.h"

#include <doctest/doctest.h>

#include "tiny_traces.h"

using namespace moestream::cachesim;

TEST_CASE("LRU on the paging sequence 0 1 0 2 0 3 1 0 with 2 slots hits twice") {
  // 0m 1m 0h 2m(evicts 1) 0h 3m(evicts 2) 1m(evicts 0) 0m(evicts 3)
  LruPolicy lru(4, 2);
  CHECK(testing::count_hits(lru, testing::kPagingSequence) == 2);
  CHECK(lru.contains(0));
  CHECK(lru.contains(1));
  CHECK_FALSE(lru.contains(3));
}

TEST_CASE("LRU with one slot hits only on immediate repeats") {
  LruPolicy lru(3, 1);
  CHECK(testing::count_hits(lru, {0, 0, 1, 1, 0, 2, 2}) == 3);
}
