#include "offload/ram_budget.h"

#include <doctest/doctest.h>

using namespace moestream;

TEST_CASE("the ram budget gives the expert cache what is left, and refuses too small a budget") {
  RamBudgetInputs in;
  in.budget = 1000 << 20;
  in.resident_weight_bytes = 300 << 20;
  in.kv_cache_bytes = 20 << 20;
  in.io_buffer_bytes = 8 << 20;
  in.overhead_bytes = 72 << 20;
  in.slot_bytes = 10 << 20;
  in.min_slots = 10;
  in.total_experts = 1000;
  auto plan = plan_ram_budget(in);
  REQUIRE(plan.ok());
  CHECK(plan->slots == 60);
  CHECK(plan->total_bytes() <= in.budget);
  CHECK(plan->describe().find("60 expert slots") != std::string::npos);

  in.total_experts = 16;  // everything fits: no more slots than experts
  CHECK(plan_ram_budget(in)->slots == 16);

  in.budget = 450 << 20;  // 400 MB fixed + 10 slots of 10 MB does not fit
  auto refused = plan_ram_budget(in);
  CHECK_FALSE(refused.ok());
  CHECK(refused.status().message().find("at least 10 expert slots") != std::string::npos);
}

TEST_CASE("the overhead allowance does not move with small differences in start-up RSS") {
  const uint64_t mib = 1ull << 20;
  // 97 and 110 MiB both round to 112 MiB; plus activations and the fixed 32 MiB.
  CHECK(default_overhead_bytes(97 * mib, 5 * mib) == (112 + 5 + 32) * mib);
  CHECK(default_overhead_bytes(110 * mib, 5 * mib) == default_overhead_bytes(97 * mib, 5 * mib));
  CHECK(default_overhead_bytes(112 * mib, 0) == (112 + 32) * mib);
  CHECK(default_overhead_bytes(113 * mib, 0) == (128 + 32) * mib);
}
