#include "profiling/cachesim/arc_policy.h"

#include <doctest/doctest.h>

#include "tiny_traces.h"

using namespace moestream::cachesim;

TEST_CASE("ARC on the paging sequence with 2 slots hits 3 times") {
  // 0m T1=[0]; 1m T1=[1,0]; 0h T2=[0]; 2m: REPLACE moves 1 to B1, T1=[2];
  // 0h; 3m: |T1|+|B1| = c, drop 1 from B1, 2 to B1, T1=[3]; 1m (1 was forgotten);
  // 0h (still in T2).
  ArcPolicy arc(4, 2);
  CHECK(testing::count_hits(arc, testing::kPagingSequence) == 3);
  CHECK(arc.contains(0));
}

TEST_CASE("ARC: ghost hits in B1 and B2 move the target and readmit into T2") {
  // 0m T1=[0]; 0h T2=[0]; 1m T1=[1]; 2m: REPLACE sends 1 to B1, T1=[2];
  // 1m: B1 ghost hit, p = 1, REPLACE sends 0 (T2's LRU) to B2, T2=[1];
  // 0m: B2 ghost hit, p = 0, REPLACE sends 2 to B1, T2=[0,1]; 1h; 0h.
  ArcPolicy arc(8, 2);
  CHECK(testing::count_hits(arc, {0, 0, 1, 2, 1, 0, 1, 0}) == 3);
  CHECK(arc.contains(0));
  CHECK(arc.contains(1));
  CHECK_FALSE(arc.contains(2));
}

TEST_CASE("ARC never holds more than its capacity") {
  ArcPolicy arc(64, 5);
  auto trace = testing::random_trace(3, 1, 64, 1, 1, 2000);
  for (size_t i = 0; i < trace.experts.size(); ++i) {
    arc.access({trace.experts[i], kNeverUsedAgain, i});
    int resident = 0;
    for (uint32_t k = 0; k < 64; ++k) resident += arc.contains(k);
    REQUIRE(resident <= 5);
  }
}
