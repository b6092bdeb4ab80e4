#include "profiling/cachesim/decayed_lfu_policy.h"

#include <doctest/doctest.h>

#include "tiny_traces.h"

using namespace moestream::cachesim;

TEST_CASE("decayed LFU with a huge half-life behaves like LFU (3 hits)") {
  DecayedLfuPolicy lfu(4, 2, 1e12);
  CHECK(testing::count_hits(lfu, testing::kPagingSequence) == 3);
}

TEST_CASE("decayed LFU with a tiny half-life behaves like LRU (2 hits)") {
  // Each access is one token later; with a half-life of 0.01 tokens the last use dominates.
  DecayedLfuPolicy lfu(4, 2, 0.01);
  CHECK(testing::count_hits(lfu, testing::kPagingSequence) == 2);
}

TEST_CASE("decayed LFU forgets an old burst") {
  // Key 0 is used 4 times at t = 0..3, then 1 and 2 alternate from t = 100 on. With a
  // half-life of 2 tokens 0's old count is worth nothing, so 1 and 2 share the 2 slots.
  DecayedLfuPolicy lfu(4, 2, 2.0);
  for (uint64_t t = 0; t < 4; ++t) lfu.access({0, kNeverUsedAgain, t});
  int hits = 0;
  for (uint64_t t = 100; t < 110; ++t) hits += lfu.access({uint32_t(1 + t % 2), kNeverUsedAgain, t});
  CHECK(hits == 8);  // 1m 2m(evicts 0) then 8 hits
  CHECK_FALSE(lfu.contains(0));
}
