#include "offload/lfu_decay_cache_policy.h"

#include <doctest/doctest.h>

using namespace moestream;

TEST_CASE("decayed LFU evicts the least used, and old counts fade") {
  LfuDecayCachePolicy lfu(3, /*half_life=*/4);
  for (int s = 0; s < 3; ++s) lfu.on_insert(s);
  const auto all = [](int) { return true; };
  for (int i = 0; i < 3; ++i) lfu.on_access(0);  // slot 0 is popular
  lfu.on_access(2);
  CHECK(lfu.choose_victim(all) == 1);  // used once, long ago
  CHECK(lfu.choose_victim([](int s) { return s != 1; }) == 2);
  // Counts halve every 4 accesses: after a long run on slot 1, slot 0's lead is gone.
  const double before = lfu.score(0);
  for (int i = 0; i < 12; ++i) lfu.on_access(1);
  CHECK(lfu.score(0) < before / 4);
  CHECK(lfu.choose_victim(all) != 1);
  // Ties go to the least recently used.
  LfuDecayCachePolicy tie(2, 1e9);
  tie.on_insert(0);
  tie.on_insert(1);
  CHECK(tie.choose_victim(all) == 0);
}

TEST_CASE("make_cache_policy knows lru and lfu and refuses the rest") {
  CachePolicyOptions o;
  CHECK((*make_cache_policy(o, 2, 8))->name() == "lru");
  o.kind = "lfu";
  CHECK((*make_cache_policy(o, 2, 8))->name() == "lfu");
  o.lfu_half_life_tokens = 0;
  CHECK_FALSE(make_cache_policy(o, 2, 8).ok());
  o.kind = "arc";
  CHECK_FALSE(make_cache_policy(o, 2, 8).ok());
}
