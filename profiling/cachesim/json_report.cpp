#include "profiling/cachesim/json_report.h"

#include <nlohmann/json.hpp>

namespace moestream::cachesim {

namespace {

nlohmann::json run_json(const SweepResult& r, const RunResult& run) {
  const SimulationStats& s = run.stats;
  const double bytes = static_cast<double>(r.config.expert_bytes);
  nlohmann::json j = {
      {"policy", policy_name(run.spec.policy)},
      {"pool", run.spec.shared_pool ? "shared" : "per-layer"},
      {"cache_experts_per_layer", run.spec.capacity_per_layer},
      {"cache_experts_total", uint64_t{run.spec.capacity_per_layer} * r.num_layers},
      {"prefetch", prefetch_name(run.spec.prefetch)},
      {"tokens", s.tokens},
      {"steps", s.steps},
      {"accesses", s.accesses},
      {"hits", s.hits},
      {"hit_rate", s.hit_rate()},
      {"all_k_resident_rate", s.all_hit_rate()},
      {"demand_loads", s.demand_loads},
      {"loads_per_token", s.loads_per_token()},
      {"bytes_per_token", s.loads_per_token() * bytes},
  };
  if (run.spec.prefetch != PrefetchKind::kNone) {
    j["prefetch_budget"] = run.spec.prefetch_budget;
    j["prefetch_loads"] = s.prefetch_loads;
    j["prefetch_covered"] = s.prefetch_covered;
    j["hit_rate_with_prefetch"] = s.covered_hit_rate();
    j["no_stall_rate"] = s.no_stall_rate();
    j["demand_loads_per_token"] = s.demand_loads_per_token();
    j["prefetch_recall"] = s.prefetch_recall(r.top_k);
    j["prefetch_all_k_named_rate"] = s.prefetch_exact_rate();
    j["prefetch_waste"] = s.prefetch_waste();
    j["misses_removed_from_critical_path"] = s.misses_removed();
    j["predicted_steps"] = s.predicted_steps;
  }
  nlohmann::json layers = nlohmann::json::array();
  for (size_t l = 0; l < s.layer_accesses.size(); ++l)
    layers.push_back(SimulationStats::ratio(s.layer_hits[l], s.layer_accesses[l]));
  j["per_layer_hit_rate"] = layers;
  if (r.has_phase) {
    const char* names[2] = {"prefill", "decode"};
    for (int p = 0; p < 2; ++p)
      j["phases"][names[p]] = {
          {"tokens", s.phase_tokens[p]},
          {"accesses", s.phase_accesses[p]},
          {"hit_rate", SimulationStats::ratio(s.phase_hits[p], s.phase_accesses[p])},
          {"loads_per_token", SimulationStats::ratio(s.phase_loads[p], s.phase_tokens[p])}};
  }
  return j;
}

}  // namespace

std::string format_json_report(const SweepResult& r) {
  nlohmann::json j = {
      {"trace",
       {{"sources", r.sources},
        {"sequences", r.sequences},
        {"tokens", r.tokens},
        {"moe_layers", r.num_layers},
        {"experts_per_layer", r.num_experts},
        {"top_k", r.top_k},
        {"phases_recorded", r.has_phase},
        {"prefetcher_guesses_recorded", r.has_pregate}}},
      {"replay",
       {{"train_sequences", r.train_sequences},
        {"replayed_sequences", r.sequences - r.train_sequences},
        {"replayed_tokens", r.replayed_tokens},
        {"replayed_accesses", r.replayed_accesses},
        {"cold_start", true},
        {"expert_bytes", r.config.expert_bytes},
        {"expert_bytes_source", r.config.expert_bytes_source},
        {"lfu_half_life_tokens", r.config.lfu_half_life_tokens},
        {"prefetch_base_policy", policy_name(r.config.prefetch_base)},
        {"cache_sizes", r.config.sizes},
        {"seconds", r.seconds}}},
      {"notes", r.notes},
  };
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& run : r.runs) runs.push_back(run_json(r, run));
  j["runs"] = runs;
  return j.dump(2) + "\n";
}

}  // namespace moestream::cachesim
