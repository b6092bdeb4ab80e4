#include "profiling/cachesim/simulator.h"

#include <algorithm>
#include <limits>

#include "profiling/cachesim/cooccurrence_predictor.h"
#include "profiling/cachesim/static_hot_set_policy.h"

namespace moestream::cachesim {

namespace {
constexpr uint32_t kNoNextUse = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kMaxTopK = 1024;
}  // namespace

ReplayContext::ReplayContext(const RoutingTrace& trace, uint32_t train_sequences)
    : trace_(trace) {
  train_sequences = std::min(train_sequences, trace.num_sequences);
  if (train_sequences > 0) {
    auto seq_tokens = sequence_token_offsets(trace);
    auto tok_steps = token_step_offsets(trace);
    first_step_ = tok_steps[seq_tokens[train_sequences]];
  }
  const uint32_t n = trace.num_experts;
  train_counts_.assign(size_t{trace.num_layers} * n, 0);
  replay_counts_.assign(size_t{trace.num_layers} * n, 0);
  for (size_t s = 0; s < trace.num_steps(); ++s) {
    auto& counts = s < first_step_ ? train_counts_ : replay_counts_;
    const uint16_t* e = trace.step_experts(s);
    for (uint32_t j = 0; j < trace.top_k; ++j) ++counts[trace.step_layer[s] * n + e[j]];
  }
}

const std::vector<uint32_t>& ReplayContext::next_use() {
  if (!next_use_.empty() || trace_.num_steps() == 0) return next_use_;
  const uint32_t k = trace_.top_k, n = trace_.num_experts;
  next_use_.assign(trace_.num_accesses(), kNoNextUse);
  std::vector<uint32_t> last(size_t{trace_.num_layers} * n, kNoNextUse);
  for (size_t s = trace_.num_steps(); s-- > first_step_;) {
    const uint16_t* e = trace_.step_experts(s);
    for (uint32_t j = k; j-- > 0;) {
      const size_t key = size_t{trace_.step_layer[s]} * n + e[j];
      const auto pos = static_cast<uint32_t>(s * k + j);
      next_use_[pos] = last[key];
      last[key] = pos;
    }
  }
  return next_use_;
}

const PrefetchPredictor* ReplayContext::predictor(PrefetchKind kind) {
  switch (kind) {
    case PrefetchKind::kNone: return nullptr;
    case PrefetchKind::kOracleNextLayer:
      if (!oracle_) oracle_ = std::make_unique<OracleNextLayerPredictor>(trace_);
      return oracle_.get();
    case PrefetchKind::kCoOccurrence:
      if (!cooccurrence_)
        cooccurrence_ = std::make_unique<CoOccurrencePredictor>(trace_, first_step_);
      return cooccurrence_.get();
    case PrefetchKind::kPregate:
      if (!pregate_) pregate_ = std::make_unique<PregatePredictor>(trace_);
      return pregate_.get();
  }
  return nullptr;
}

Status check_spec(ReplayContext& context, const SimulationSpec& spec) {
  if (spec.capacity_per_layer == 0) return invalid_argument("cache size must be at least 1");
  if (!(spec.lfu_half_life_tokens > 0)) return invalid_argument("the LFU half-life must be positive");
  if (context.trace().top_k > kMaxTopK)
    return unsupported("more than " + std::to_string(kMaxTopK) + " experts per token");
  if (context.trace().num_accesses() >= kNoNextUse)
    return unsupported("traces with 2^32 or more expert accesses: replay fewer files at once");
  bool trained = spec.policy == PolicyKind::kStaticHotSet ||
                 spec.prefetch == PrefetchKind::kCoOccurrence;
  if (trained && !context.has_training_split())
    return invalid_argument(
        "the static hot set and the co-occurrence predictor are chosen on a training split; "
        "set a training fraction above 0 (and give at least two sequences)");
  if (spec.prefetch == PrefetchKind::kPregate && context.trace().pregate_width == 0)
    return invalid_argument(
        "pre-gating needs the prefetcher's recorded guesses (router scores), which this trace "
        "does not have (routing CSVs carry expert IDs only)");
  if (spec.prefetch != PrefetchKind::kNone && !is_online(spec.policy))
    return invalid_argument("OPT and the top-C oracle are offline references for demand "
                            "caching; run prefetch models on an online policy");
  if (spec.prefetch != PrefetchKind::kNone && spec.prefetch_budget == 0)
    return invalid_argument("a prefetch model needs a budget of at least 1 expert");
  return ok_status();
}

Result<SimulationStats> simulate(ReplayContext& context, const SimulationSpec& spec) {
  MOESTREAM_TRY(check_spec(context, spec));
  const RoutingTrace& t = context.trace();
  const uint32_t num_layers = t.num_layers, n = t.num_experts, k = t.top_k;
  const uint32_t capacity = spec.capacity_per_layer;

  PolicyParams params;
  params.lfu_half_life_tokens = spec.lfu_half_life_tokens;
  params.accesses_per_token = static_cast<double>(k) * (spec.shared_pool ? num_layers : 1);
  std::vector<std::unique_ptr<CachePolicy>> caches;
  const bool is_static = spec.policy == PolicyKind::kStaticHotSet ||
                         spec.policy == PolicyKind::kStaticOracle;
  const auto& counts = spec.policy == PolicyKind::kStaticOracle ? context.replay_counts()
                                                                 : context.train_counts();
  if (spec.shared_pool) {
    if (is_static) params.static_keys = top_keys_by_count(counts, capacity * num_layers);
    caches.push_back(make_policy(spec.policy, num_layers * n, capacity * num_layers, params));
  } else {
    for (uint32_t l = 0; l < num_layers; ++l) {
      if (is_static) {
        std::vector<uint64_t> layer_counts(counts.begin() + l * n, counts.begin() + (l + 1) * n);
        params.static_keys = top_keys_by_count(layer_counts, capacity);
      }
      caches.push_back(make_policy(spec.policy, n, capacity, params));
    }
  }
  const bool needs_future =
      spec.policy == PolicyKind::kBelady || spec.policy == PolicyKind::kBeladyAdmit;
  const uint32_t* next_use = needs_future ? context.next_use().data() : nullptr;
  const PrefetchPredictor* predictor = context.predictor(spec.prefetch);

  SimulationStats st;
  st.layer_accesses.assign(num_layers, 0);
  st.layer_hits.assign(num_layers, 0);
  std::vector<uint16_t> guess, fetched;
  uint32_t last_token = std::numeric_limits<uint32_t>::max();
  uint8_t phase = 0;
  for (size_t s = context.first_step(); s < context.end_step(); ++s) {
    const uint32_t token = t.step_token[s];
    if (token != last_token) {
      last_token = token;
      phase = t.token_phase[token] & 1;
      ++st.tokens;
      ++st.phase_tokens[phase];
    }
    const uint32_t layer = t.step_layer[s];
    CachePolicy& cache = spec.shared_pool ? *caches[0] : *caches[layer];
    const uint32_t base = spec.shared_pool ? layer * n : 0;
    const uint16_t* experts = t.step_experts(s);
    auto make_access = [&](uint32_t j) {
      Access a{base + experts[j], kNeverUsedAgain, s};
      if (next_use) {
        const uint32_t nu = next_use[s * k + j];
        if (nu != kNoNextUse) a.next_use = nu;
      }
      return a;
    };

    fetched.clear();
    if (predictor) {
      predictor->predict(s, spec.prefetch_budget, &guess);
      if (!guess.empty()) {
        ++st.predicted_steps;
        uint32_t named = 0;
        for (uint32_t j = 0; j < k; ++j)
          named += std::find(guess.begin(), guess.end(), experts[j]) != guess.end();
        st.predicted_slots += named;
        st.predicted_all_steps += named == k;
        for (uint16_t g : guess)
          if (!cache.contains(base + g)) fetched.push_back(g);
        st.prefetch_loads += fetched.size();
        st.phase_loads[phase] += fetched.size();
      }
    }

    // Resident experts are served first (the runtime computes them while the misses load),
    // so a miss never evicts an expert this step still needs; then the misses, in order.
    bool all_hit = true, no_stall = true;
    uint32_t missed[kMaxTopK];
    uint32_t num_missed = 0;
    for (uint32_t j = 0; j < k; ++j) {
      if (!cache.contains(base + experts[j])) {
        missed[num_missed++] = j;
        continue;
      }
      cache.access(make_access(j));
      ++st.hits;
      ++st.layer_hits[layer];
      ++st.phase_hits[phase];
    }
    for (uint32_t m = 0; m < num_missed; ++m) {
      const uint32_t j = missed[m];
      cache.access(make_access(j));
      all_hit = false;
      if (std::find(fetched.begin(), fetched.end(), experts[j]) != fetched.end()) {
        ++st.prefetch_covered;
      } else {
        ++st.demand_loads;
        ++st.phase_loads[phase];
        no_stall = false;
      }
    }
    ++st.steps;
    st.accesses += k;
    st.layer_accesses[layer] += k;
    st.phase_accesses[phase] += k;
    st.all_hit_steps += all_hit;
    st.no_stall_steps += no_stall;
  }
  return st;
}

}  // namespace moestream::cachesim
