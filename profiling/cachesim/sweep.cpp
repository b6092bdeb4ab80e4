#include "profiling/cachesim/sweep.h"

#include <algorithm>
#include <cmath>

#include "platform/clock.h"

namespace moestream::cachesim {

std::vector<uint32_t> default_cache_sizes(uint32_t num_experts, uint32_t top_k) {
  std::vector<uint32_t> sizes = {top_k};
  for (double f : {1.0 / 8, 3.0 / 16, 1.0 / 4, 3.0 / 8, 1.0 / 2, 3.0 / 4}) {
    auto c = static_cast<uint32_t>(std::lround(f * num_experts));
    if (c >= 1) sizes.push_back(c);
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

Result<SweepResult> run_sweep(const RoutingTrace& trace, const SweepConfig& config,
                              const std::function<void(size_t, size_t)>& progress) {
  Stopwatch watch;
  SweepResult r;
  r.config = config;
  if (r.config.sizes.empty()) r.config.sizes = default_cache_sizes(trace.num_experts, trace.top_k);
  if (r.config.prefetch_budgets.empty()) r.config.prefetch_budgets = {trace.top_k};
  if (config.train_fraction < 0 || config.train_fraction >= 1)
    return invalid_argument("the training fraction must be in [0, 1)");
  r.config.layer_labels = trace.layer_labels;
  r.num_layers = trace.num_layers;
  r.num_experts = trace.num_experts;
  r.top_k = trace.top_k;
  r.sequences = trace.num_sequences;
  r.tokens = trace.num_tokens();
  r.has_phase = trace.has_phase;
  r.has_pregate = trace.pregate_width > 0;
  r.sources = trace.sources;
  r.train_sequences = static_cast<uint32_t>(std::floor(config.train_fraction * trace.num_sequences));
  if (config.train_fraction > 0 && r.train_sequences == 0)
    r.notes.push_back("too few sequences for a training split: everything is replayed and the "
                      "trained models (static hot set, co-occurrence) are skipped");
  ReplayContext context(trace, r.train_sequences);
  r.replayed_tokens = trace.num_tokens() - (context.first_step() < trace.num_steps()
                                                ? trace.step_token[context.first_step()]
                                                : trace.num_tokens());
  r.replayed_accesses = uint64_t{context.end_step() - context.first_step()} * trace.top_k;

  std::vector<SimulationSpec> specs;
  for (bool shared : {false, true}) {
    if ((shared && !config.shared) || (!shared && !config.per_layer)) continue;
    for (PolicyKind policy : config.policies) {
      SimulationSpec probe{policy, shared, 1};
      Status ok = check_spec(context, probe);
      if (!ok.ok()) {
        if (!shared || !config.per_layer)
          r.notes.push_back(std::string(policy_display_name(policy)) + ": skipped: " + ok.message());
        continue;
      }
      for (uint32_t c : r.config.sizes) specs.push_back({policy, shared, c});
    }
  }
  for (PrefetchKind kind : config.prefetch) {
    if (kind == PrefetchKind::kNone) continue;
    SimulationSpec probe{config.prefetch_base, false, 1, kind, 1};
    Status ok = check_spec(context, probe);
    if (!ok.ok()) {
      r.notes.push_back(std::string("prefetch ") + std::string(prefetch_display_name(kind)) +
                        ": not available: " + ok.message());
      continue;
    }
    std::vector<uint32_t> budgets;
    for (uint32_t budget : r.config.prefetch_budgets) {
      // The oracle names at most the k true experts: larger budgets are the same run.
      if (kind == PrefetchKind::kOracleNextLayer) budget = std::min(budget, trace.top_k);
      if (std::find(budgets.begin(), budgets.end(), budget) == budgets.end())
        budgets.push_back(budget);
    }
    for (uint32_t budget : budgets)
      for (uint32_t c : r.config.sizes)
        specs.push_back({config.prefetch_base, false, c, kind, budget});
  }
  for (auto& spec : specs) spec.lfu_half_life_tokens = config.lfu_half_life_tokens;

  for (size_t i = 0; i < specs.size(); ++i) {
    MOESTREAM_ASSIGN_OR_RETURN(SimulationStats stats, simulate(context, specs[i]));
    r.runs.push_back({specs[i], std::move(stats)});
    if (progress) progress(i + 1, specs.size());
  }
  r.seconds = watch.elapsed_seconds();
  return r;
}

const RunResult* find_run(const SweepResult& result, PolicyKind policy, bool shared,
                          uint32_t size) {
  for (const auto& run : result.runs)
    if (run.spec.policy == policy && run.spec.shared_pool == shared &&
        run.spec.capacity_per_layer == size && run.spec.prefetch == PrefetchKind::kNone)
      return &run;
  return nullptr;
}

}  // namespace moestream::cachesim
