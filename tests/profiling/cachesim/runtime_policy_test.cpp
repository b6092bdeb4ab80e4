// The simulator's lru and lfu-decay are the runtime's own policies: replaying one trace
// through ExpertCache (real slots, real reads) and through simulate() gives the same hits.
#include "profiling/cachesim/runtime_policy.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "offload/expert_cache.h"
#include "offload/support/synth_container.h"
#include "offload/support/use_experts.h"
#include "profiling/cachesim/simulator.h"
#include "tiny_traces.h"

using namespace moestream;
using namespace moestream::cachesim;

namespace {

// Skewed routing: each (token, layer) picks k distinct experts, low ids far more often.
RoutingTrace skewed_trace(uint32_t layers, uint32_t experts, uint32_t k, uint32_t tokens, uint32_t seed) {
  RoutingTrace t;
  t.num_layers = layers;
  t.num_experts = experts;
  t.top_k = k;
  for (uint32_t l = 0; l < layers; ++l) t.layer_labels.push_back(l);
  std::mt19937 rng(seed);
  std::geometric_distribution<uint32_t> pick(0.15);
  for (uint32_t token = 0; token < tokens; ++token) {
    t.token_sequence.push_back(0);
    t.token_phase.push_back(kPhaseDecode);
    for (uint32_t l = 0; l < layers; ++l) {
      std::vector<uint16_t> chosen;
      while (chosen.size() < k) {
        const auto e = static_cast<uint16_t>((pick(rng) + l * 3) % experts);
        if (std::find(chosen.begin(), chosen.end(), e) == chosen.end()) chosen.push_back(e);
      }
      t.step_layer.push_back(static_cast<uint16_t>(l));
      t.step_token.push_back(token);
      t.experts.insert(t.experts.end(), chosen.begin(), chosen.end());
    }
  }
  t.num_sequences = 1;
  return t;
}

// Runs the trace through a real ExpertCache of `slots` slots; returns its demand hits.
uint64_t runtime_hits(const ContainerReader& reader, const RoutingTrace& t, const std::string& policy,
                      double half_life, int64_t slots) {
  ExpertCacheOptions options;
  options.slots = slots;
  options.policy.kind = policy;
  options.policy.lfu_half_life_tokens = half_life;
  options.huge_pages = false;
  auto cache = ExpertCache::create(reader, options);
  REQUIRE_MESSAGE(cache.ok(), cache.status().to_string());
  const std::vector<int64_t> layers = reader.expert_layers();
  for (size_t s = 0; s < t.num_steps(); ++s) {
    const int64_t layer = layers[t.step_layer[s]];
    const uint16_t* chosen = t.step_experts(s);
    moestream::testing::use_experts(**cache, layer, std::vector<int64_t>(chosen, chosen + t.top_k));
  }
  uint64_t hits = 0;
  for (const LayerCacheStats& st : (*cache)->stats()) hits += st.hits;
  return hits;
}

}  // namespace

TEST_CASE("the simulator's lru and lfu give the runtime cache's hits on the same trace") {
  moestream::testing::TempDir dir;
  auto reader = ContainerReader::open(moestream::testing::synth_container(dir, "m.mst"));
  REQUIRE(reader.ok());
  const ContainerReader& r = **reader;
  const auto layers = static_cast<uint32_t>(r.expert_layers().size());
  const auto experts = static_cast<uint32_t>(r.config().n_routed_experts);
  const auto k = static_cast<uint32_t>(r.config().num_experts_per_tok);
  REQUIRE(layers >= 1);
  const RoutingTrace trace = skewed_trace(layers, experts, k, 120, 7);
  ReplayContext context(trace, 0);
  for (const char* name : {"lru", "lfu"}) {
    for (double half_life : {2.0, 32.0}) {
      for (uint32_t per_layer : {k, k + 3, experts / 2}) {
        SimulationSpec spec;
        spec.policy = std::string(name) == "lru" ? PolicyKind::kLru : PolicyKind::kDecayedLfu;
        spec.shared_pool = true;  // the runtime's cache is one pool for every layer
        spec.capacity_per_layer = per_layer;
        spec.lfu_half_life_tokens = half_life;
        auto simulated = simulate(context, spec);
        REQUIRE_MESSAGE(simulated.ok(), simulated.status().to_string());
        const uint64_t real = runtime_hits(r, trace, name, half_life, int64_t{per_layer} * layers);
        INFO(name, " half-life ", half_life, " slots/layer ", per_layer);
        CHECK(simulated->hits == real);
        CHECK(simulated->hits > 0);
      }
    }
  }
}

namespace {

std::unique_ptr<moestream::cachesim::CachePolicy> policy(PolicyKind kind, uint32_t keys, uint32_t capacity,
                                                          double half_life = 32) {
  PolicyParams params;
  params.lfu_half_life_tokens = half_life;
  params.accesses_per_token = 1;  // one layer, k = 1
  auto p = make_policy(kind, keys, capacity, params);
  REQUIRE(p != nullptr);
  return p;
}

}  // namespace

TEST_CASE("LRU on the paging sequence 0 1 0 2 0 3 1 0 with 2 slots hits twice") {
  // 0m 1m 0h 2m(evicts 1) 0h 3m(evicts 2) 1m(evicts 0) 0m(evicts 3)
  auto lru = policy(PolicyKind::kLru, 4, 2);
  CHECK(cachesim::testing::count_hits(*lru, cachesim::testing::kPagingSequence) == 2);
  CHECK(lru->contains(0));
  CHECK(lru->contains(1));
  CHECK_FALSE(lru->contains(3));
}

TEST_CASE("LRU with one slot hits only on immediate repeats") {
  auto lru = policy(PolicyKind::kLru, 3, 1);
  CHECK(cachesim::testing::count_hits(*lru, {0, 0, 1, 1, 0, 2, 2}) == 3);
}

TEST_CASE("decayed LFU with a huge half-life behaves like LFU, with a tiny one like LRU") {
  CHECK(cachesim::testing::count_hits(*policy(PolicyKind::kDecayedLfu, 4, 2, 1e12), cachesim::testing::kPagingSequence) == 3);
  CHECK(cachesim::testing::count_hits(*policy(PolicyKind::kDecayedLfu, 4, 2, 0.01), cachesim::testing::kPagingSequence) == 2);
}

TEST_CASE("decayed LFU forgets an old burst") {
  // Key 0 is used 4 times, then 1 and 2 alternate. With a half-life of 2 accesses 0's count
  // fades within a few accesses, after which 1 and 2 share the 2 slots and always hit.
  auto lfu = policy(PolicyKind::kDecayedLfu, 4, 2, 2.0);
  uint64_t step = 0;
  for (int i = 0; i < 4; ++i) lfu->access({0, kNeverUsedAgain, step++});
  for (int i = 0; i < 20; ++i) lfu->access({uint32_t(1 + i % 2), kNeverUsedAgain, step++});
  CHECK_FALSE(lfu->contains(0));
  int hits = 0;
  for (int i = 0; i < 10; ++i) hits += lfu->access({uint32_t(1 + i % 2), kNeverUsedAgain, step++});
  CHECK(hits == 10);
}
