#include "profiling/cachesim/static_hot_set_policy.h"

#include <doctest/doctest.h>

#include "tiny_traces.h"

using namespace moestream::cachesim;

TEST_CASE("top_keys_by_count picks the most used keys, lower id on ties") {
  CHECK(top_keys_by_count({2, 1, 0, 1}, 2) == std::vector<uint32_t>{0, 1});
  CHECK(top_keys_by_count({0, 5, 5, 9}, 3) == std::vector<uint32_t>{3, 1, 2});
  CHECK(top_keys_by_count({1, 2}, 5).size() == 2);
}

TEST_CASE("static hot set {0, 1}: hot keys load once then always hit, others never stay") {
  // 0m(load) 1m(load) 0h 2m 0h 3m 1h 0h
  StaticHotSetPolicy hot(4, {0, 1});
  CHECK_FALSE(hot.contains(0));
  CHECK(testing::count_hits(hot, testing::kPagingSequence) == 4);
  CHECK(hot.contains(1));
  CHECK_FALSE(hot.contains(2));
}
