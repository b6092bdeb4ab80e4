#include "profiling/cachesim/simulator.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "profiling/cachesim/trace_loading.h"
#include "tiny_traces.h"

using namespace moestream::cachesim;
using testing::make_trace;

namespace {

SimulationStats run(ReplayContext& ctx, PolicyKind policy, uint32_t c, bool shared = false,
                    PrefetchKind prefetch = PrefetchKind::kNone, uint32_t budget = 0) {
  SimulationSpec spec{policy, shared, c, prefetch, budget};
  auto stats = simulate(ctx, spec);
  REQUIRE_MESSAGE(stats.ok(), stats.status().to_string());
  return *stats;
}

}  // namespace

TEST_CASE("every policy on the tiny paging trace gives its worked-out hit count") {
  // One layer, k = 1, keys 0 1 0 2 0 3 1 0, two slots. Static is trained on a first
  // sequence 0 0 1 3 (hot set {0, 1}).
  auto trace = make_trace(1, 4, 1,
                          {{{{0}}, {{0}}, {{1}}, {{3}}},
                           {{{0}}, {{1}}, {{0}}, {{2}}, {{0}}, {{3}}, {{1}}, {{0}}}});
  ReplayContext ctx(trace, 1);
  CHECK(run(ctx, PolicyKind::kLru, 2).hits == 2);
  CHECK(run(ctx, PolicyKind::kLfu, 2).hits == 3);
  CHECK(run(ctx, PolicyKind::kArc, 2).hits == 3);
  CHECK(run(ctx, PolicyKind::kStaticHotSet, 2).hits == 4);
  // The top-C oracle counts the replayed sequence itself: 0 x4, 1 x2 -> {0, 1}, same answer.
  CHECK(run(ctx, PolicyKind::kStaticOracle, 2).hits == 4);
  CHECK(run(ctx, PolicyKind::kBelady, 2).hits == 4);
  CHECK(run(ctx, PolicyKind::kBeladyAdmit, 2).hits == 3);
  SimulationSpec decayed{PolicyKind::kDecayedLfu, false, 2};
  decayed.lfu_half_life_tokens = 1e12;
  CHECK(simulate(ctx, decayed)->hits == 3);
  decayed.lfu_half_life_tokens = 0.01;
  CHECK(simulate(ctx, decayed)->hits == 2);
  auto lru = run(ctx, PolicyKind::kLru, 2);
  CHECK(lru.accesses == 8);
  CHECK(lru.tokens == 8);
  CHECK(lru.demand_loads == 6);
  CHECK(lru.loads_per_token() == doctest::Approx(0.75));
  CHECK(lru.hit_rate() == doctest::Approx(0.25));
}

TEST_CASE("resident experts are served first within a step, then the misses") {
  // k = 2, one layer, 2 slots. Step 1 {0,1}: LRU = [1,0]. Step 2 {2,0}: 0 is resident and
  // served first (hit, LRU = [0,1]), then 2 evicts 1. Served in router order, 2 would have
  // evicted 0 first and both would miss.
  auto trace = make_trace(1, 4, 2, {{{{0, 1}}, {{2, 0}}, {{0, 2}}}});
  ReplayContext ctx(trace, 0);
  auto s = run(ctx, PolicyKind::kLru, 2);
  CHECK(s.hits == 3);            // 0 in step 2; 0 and 2 in step 3
  CHECK(s.all_hit_steps == 1);   // step 3
  CHECK(s.all_hit_rate() == doctest::Approx(1.0 / 3));
  CHECK(s.demand_loads == 3);
}

TEST_CASE("per-layer caches and one shared pool differ when layers are uneven") {
  // Two layers, k = 1, C = 1 per layer. Layer 0 always wants 0; layer 1 cycles 1 2 1 2.
  // Per layer: layer 0 hits 3 of 4, layer 1 never. Shared pool of 2: 0,1,2 compete.
  auto trace = make_trace(2, 3, 1, {{{{0}, {1}}, {{0}, {2}}, {{0}, {1}}, {{0}, {2}}}});
  ReplayContext ctx(trace, 0);
  auto per_layer = run(ctx, PolicyKind::kLru, 1);
  CHECK(per_layer.hits == 3);
  CHECK(per_layer.layer_hits == std::vector<uint64_t>{3, 0});
  // Shared LRU of 2 on keys (0,0) (1,1) (0,0) (1,2) ...: 0 stays MRU-ish: 0m 1m 0h 2m(evict 1)
  // 0h 1m(evict 2) 0h 2m -> 3 hits.
  CHECK(run(ctx, PolicyKind::kLru, 1, true).hits == 3);
  // OPT with the shared pool of 2 can keep 0 and one of 1/2: 0m 1m 0h 2m(bypass) 0h 1h 0h 2m.
  CHECK(run(ctx, PolicyKind::kBelady, 1, true).hits == 4);
}

TEST_CASE("co-occurrence prefetch: known loads, coverage, recall and waste") {
  // Two layers, k = 1, C = 1. Training: layer 0 expert 0 -> layer 1 expert 2, 1 -> 3.
  // Replay (0,2) (1,3): layer 0 has no guess; layer 1 guesses right both times.
  auto trace = make_trace(2, 4, 1,
                          {{{{0}, {2}}, {{1}, {3}}, {{0}, {2}}, {{1}, {3}}},
                           {{{0}, {2}}, {{1}, {3}}}});
  ReplayContext ctx(trace, 1);
  auto s = run(ctx, PolicyKind::kLru, 1, false, PrefetchKind::kCoOccurrence, 1);
  CHECK(s.accesses == 4);
  CHECK(s.hits == 0);
  CHECK(s.predicted_steps == 2);
  CHECK(s.prefetch_recall(1) == doctest::Approx(1.0));
  CHECK(s.prefetch_loads == 2);
  CHECK(s.prefetch_covered == 2);
  CHECK(s.demand_loads == 2);  // the layer-0 misses
  CHECK(s.prefetch_waste() == doctest::Approx(0.0));
  CHECK(s.misses_removed() == doctest::Approx(0.5));
  CHECK(s.covered_hit_rate() == doctest::Approx(0.5));
  CHECK(s.loads_per_token() == doctest::Approx(2.0));
}

TEST_CASE("oracle next-layer prefetch covers every miss and wastes nothing") {
  auto trace = testing::random_trace(7, 3, 16, 4, 2, 50);
  ReplayContext ctx(trace, 0);
  auto s = run(ctx, PolicyKind::kLru, 6, false, PrefetchKind::kOracleNextLayer, 4);
  auto plain = run(ctx, PolicyKind::kLru, 6);
  CHECK(s.hits == plain.hits);  // the side buffer leaves the cache as it was
  CHECK(s.demand_loads == 0);
  CHECK(s.prefetch_covered == plain.demand_loads);
  CHECK(s.prefetch_waste() == doctest::Approx(0.0));
  CHECK(s.no_stall_rate() == doctest::Approx(1.0));
}

TEST_CASE("specs that cannot run say why") {
  auto trace = testing::random_trace(1, 2, 8, 2, 3, 10);
  ReplayContext no_split(trace, 0);
  auto s = simulate(no_split, {PolicyKind::kStaticHotSet, false, 2});
  CHECK_FALSE(s.ok());
  CHECK(s.status().message().find("training split") != std::string::npos);
  auto pregate = simulate(no_split, {PolicyKind::kLru, false, 2, PrefetchKind::kPregate, 2});
  CHECK(pregate.status().message().find("recorded guesses") != std::string::npos);
  CHECK_FALSE(simulate(no_split, {PolicyKind::kBelady, false, 2, PrefetchKind::kOracleNextLayer, 2}).ok());
  CHECK_FALSE(simulate(no_split, {PolicyKind::kLru, false, 0}).ok());
}

namespace {

void check_opt_bounds_online(const RoutingTrace& trace, uint32_t train_sequences,
                             const std::vector<uint32_t>& sizes) {
  ReplayContext ctx(trace, train_sequences);
  for (uint32_t c : sizes) {
    for (bool shared : {false, true}) {
      uint64_t opt = run(ctx, PolicyKind::kBelady, c, shared).hits;
      for (PolicyKind p : {PolicyKind::kLru, PolicyKind::kLfu, PolicyKind::kDecayedLfu,
                           PolicyKind::kArc, PolicyKind::kStaticHotSet,
                           PolicyKind::kStaticOracle}) {
        uint64_t online = run(ctx, p, c, shared).hits;
        INFO("policy " << policy_name(p) << ", C = " << c << (shared ? " shared" : " per layer"));
        CHECK(opt >= online);
      }
      // Admit-always MIN bounds the admit-always policies, and OPT (with bypass) bounds it.
      // The runtime's lru / lfu-decay admit every miss only when a step's k experts fit
      // (below k slots they stream the rest through, as the runtime would have to).
      uint64_t opt_admit = run(ctx, PolicyKind::kBeladyAdmit, c, shared).hits;
      CHECK(opt >= opt_admit);
      const bool fits = shared ? c * trace.num_layers >= trace.top_k : c >= trace.top_k;
      for (PolicyKind p : {PolicyKind::kLru, PolicyKind::kLfu, PolicyKind::kDecayedLfu,
                           PolicyKind::kArc}) {
        if (!fits && (p == PolicyKind::kLru || p == PolicyKind::kDecayedLfu)) continue;
        INFO("OPT-admit against " << policy_name(p) << ", C = " << c);
        CHECK(opt_admit >= run(ctx, p, c, shared).hits);
      }
      // A shared pool can do all a partitioned one can, so shared OPT bounds per-layer OPT.
      if (shared) CHECK(opt >= run(ctx, PolicyKind::kBelady, c, false).hits);
    }
  }
}

}  // namespace

TEST_CASE("OPT >= every online policy at every size (random traces with locality)") {
  for (uint32_t seed : {1u, 2u, 3u}) {
    auto trace = testing::random_trace(seed, 4, 32, 4, 6, 60);
    check_opt_bounds_online(trace, 2, {1, 2, 4, 6, 8, 12, 16, 24, 32});
  }
}

TEST_CASE("OPT >= every online policy at every size (shared real DeepSeek-V2-Lite traces)") {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(MOESTREAM_SHARED_DIR) /
                 "expert-routing-traces/deepseek-v2-lite-chat__moe-beyond/test_datasets/formatted_csvs";
  if (!fs::is_directory(dir)) {
    MESSAGE("skipped: " << dir.string() << " is absent (the shared traces are not part of the repo)");
    return;
  }
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".csv") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  files.resize(std::min<size_t>(files.size(), 40));  // enough tokens, keeps the test fast
  auto trace = load_routing_traces(files, {});
  REQUIRE_MESSAGE(trace.ok(), trace.status().to_string());
  check_opt_bounds_online(*trace, 20, {6, 8, 12, 16, 24, 32, 48});
}
