// Replays a routing trace against one cache configuration and counts what a cache tuner
// needs (docs/profiling.md, What each number means): slot hit rate, the share of (token, layer) steps
// with all k experts resident, demand loads, and, with a prefetch model, what prefetching
// covered and wasted. Prefetched experts go to a side buffer for the step (they do not
// displace cached experts); a prefetched expert that the step uses is then admitted by the
// policy as on a miss, one that is not used is dropped and counted as waste.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "profiling/cachesim/cache_policy.h"
#include "profiling/cachesim/prefetch_predictor.h"
#include "profiling/cachesim/routing_trace.h"
#include "platform/status.h"

namespace moestream::cachesim {

struct SimulationSpec {
  PolicyKind policy = PolicyKind::kLru;
  bool shared_pool = false;          // one pool of capacity x layers instead of one per layer
  uint32_t capacity_per_layer = 0;   // experts per layer (the shared pool holds this x layers)
  PrefetchKind prefetch = PrefetchKind::kNone;
  uint32_t prefetch_budget = 0;      // experts the predictor may name per step
  double lfu_half_life_tokens = 32;  // decayed LFU
};

struct SimulationStats {
  uint64_t tokens = 0, steps = 0, accesses = 0;
  uint64_t hits = 0;                 // resident in the cache at the demand access
  uint64_t all_hit_steps = 0;        // steps whose k experts were all cache hits
  uint64_t demand_loads = 0;         // misses that were not prefetched: on the critical path
  // Prefetch (zero without a prefetch model).
  uint64_t prefetch_loads = 0;       // experts read ahead because they were not resident
  uint64_t prefetch_covered = 0;     // cache misses whose expert had been prefetched
  uint64_t no_stall_steps = 0;       // steps whose experts were all hits or prefetched
  uint64_t predicted_steps = 0;      // steps the predictor made a guess for
  uint64_t predicted_slots = 0;      // true experts named by the guess (slot recall numerator)
  uint64_t predicted_all_steps = 0;  // guesses that named all k experts
  uint64_t phase_accesses[2] = {0, 0}, phase_hits[2] = {0, 0}, phase_tokens[2] = {0, 0};
  uint64_t phase_loads[2] = {0, 0};  // demand + prefetch loads
  std::vector<uint64_t> layer_accesses, layer_hits;

  double hit_rate() const { return ratio(hits, accesses); }
  double all_hit_rate() const { return ratio(all_hit_steps, steps); }
  double covered_hit_rate() const { return ratio(hits + prefetch_covered, accesses); }
  double no_stall_rate() const { return ratio(no_stall_steps, steps); }
  double loads_per_token() const { return ratio(demand_loads + prefetch_loads, tokens); }
  double demand_loads_per_token() const { return ratio(demand_loads, tokens); }
  double prefetch_recall(uint32_t k) const { return ratio(predicted_slots, predicted_steps * k); }
  double prefetch_exact_rate() const { return ratio(predicted_all_steps, predicted_steps); }
  double prefetch_waste() const {
    return ratio(prefetch_loads - prefetch_covered, prefetch_loads);
  }
  double misses_removed() const {  // share of cache misses taken off the critical path
    return ratio(prefetch_covered, prefetch_covered + demand_loads);
  }
  static double ratio(uint64_t a, uint64_t b) {
    return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0;
  }
};

// What the replays share: the evaluation window and the models learned on the training
// split (the static hot sets and the co-occurrence table).
class ReplayContext {
 public:
  // The first `train_sequences` sequences are the training split; replays cover the rest,
  // each starting from an empty cache. train_sequences = 0: replay everything, nothing
  // trained (static and co-occurrence are then unavailable).
  ReplayContext(const RoutingTrace& trace, uint32_t train_sequences);

  const RoutingTrace& trace() const { return trace_; }
  size_t first_step() const { return first_step_; }
  size_t end_step() const { return trace_.num_steps(); }
  bool has_training_split() const { return first_step_ > 0; }
  // Next use (access position) of each access's (layer, expert); built on first use.
  const std::vector<uint32_t>& next_use();
  // Use counts per (layer, expert) key on the training split / on the replayed steps.
  const std::vector<uint64_t>& train_counts() const { return train_counts_; }
  const std::vector<uint64_t>& replay_counts() const { return replay_counts_; }
  const PrefetchPredictor* predictor(PrefetchKind kind);

 private:
  const RoutingTrace& trace_;
  size_t first_step_ = 0;
  std::vector<uint32_t> next_use_;
  std::vector<uint64_t> train_counts_;
  std::vector<uint64_t> replay_counts_;
  std::unique_ptr<PrefetchPredictor> oracle_, cooccurrence_, pregate_;
};

// kInvalidArgument when the spec cannot run on this trace (static or co-occurrence without a
// training split, pre-gating without recorded guesses, capacity 0).
Status check_spec(ReplayContext& context, const SimulationSpec& spec);
Result<SimulationStats> simulate(ReplayContext& context, const SimulationSpec& spec);

}  // namespace moestream::cachesim
