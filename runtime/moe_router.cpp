#include "runtime/moe_router.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace moestream {
namespace {

// Indices of the k largest values, largest first; ties go to the lower index. Into `out`,
// whose capacity is reused: no allocation once warm (a decode step allocates nothing).
void top_k_indices(const std::vector<float>& values, int64_t k, std::vector<int32_t>* out) {
  out->resize(values.size());
  std::iota(out->begin(), out->end(), 0);
  std::partial_sort(out->begin(), out->begin() + k, out->end(), [&](int32_t a, int32_t b) {
    return values[a] != values[b] ? values[a] > values[b] : a < b;
  });
  out->resize(static_cast<size_t>(k));
}

// Per-thread working buffers of route_token, kept between calls.
struct RouterScratch {
  std::vector<float> scores, biased, group_scores, members;
  std::vector<uint8_t> kept, chosen;
  std::vector<std::pair<float, int32_t>> rest;
};

}  // namespace

Result<RouterConfig> RouterConfig::from_config(const ModelConfig& config) {
  RouterConfig r;
  r.experts = config.n_routed_experts;
  r.groups = std::max<int64_t>(config.n_group, 1);
  r.kept_groups = std::max<int64_t>(config.topk_group, 1);
  r.top_k = config.num_experts_per_tok;
  r.scaling = static_cast<float>(config.routed_scaling_factor);
  r.normalize = config.norm_topk_prob;
  if (config.scoring_func != "sigmoid") {
    return unsupported("router scoring_func '" + config.scoring_func + "' is not supported (sigmoid)");
  }
  if (r.experts <= 0 || r.experts % r.groups != 0) {
    return invalid_argument("n_routed_experts (" + std::to_string(r.experts) +
                            ") must be a positive multiple of n_group (" + std::to_string(r.groups) + ")");
  }
  if (r.kept_groups > r.groups) {
    return invalid_argument("topk_group (" + std::to_string(r.kept_groups) + ") exceeds n_group (" +
                            std::to_string(r.groups) + ")");
  }
  if (r.top_k <= 0 || r.top_k > r.kept_groups * (r.experts / r.groups)) {
    return invalid_argument("num_experts_per_tok (" + std::to_string(r.top_k) +
                            ") must be between 1 and the experts of topk_group groups");
  }
  return r;
}

void route_token(const RouterConfig& config, const float* logits, const float* bias,
                 RoutingDecision* out) {
  const int64_t n = config.experts;
  thread_local RouterScratch scratch;
  std::vector<float>& scores = scratch.scores;
  std::vector<float>& biased = scratch.biased;
  scores.resize(static_cast<size_t>(n));
  biased.resize(static_cast<size_t>(n));
  for (int64_t e = 0; e < n; ++e) {
    scores[e] = router_affinity(logits[e]);
    biased[e] = router_choice_score(logits[e], bias, e);
  }
  out->kept_groups.clear();
  if (config.groups > 1) {
    const int64_t per_group = n / config.groups;
    const int64_t summed = std::min<int64_t>(2, per_group);
    std::vector<float>& group_scores = scratch.group_scores;
    std::vector<float>& members = scratch.members;
    group_scores.resize(static_cast<size_t>(config.groups));
    for (int64_t g = 0; g < config.groups; ++g) {
      members.assign(biased.begin() + g * per_group, biased.begin() + (g + 1) * per_group);
      std::partial_sort(members.begin(), members.begin() + summed, members.end(), std::greater<float>());
      float sum = 0.0f;
      for (int64_t i = 0; i < summed; ++i) sum += members[i];
      group_scores[g] = sum;
    }
    top_k_indices(group_scores, config.kept_groups, &out->kept_groups);
    std::vector<uint8_t>& kept = scratch.kept;
    kept.assign(static_cast<size_t>(config.groups), 0);
    for (int32_t g : out->kept_groups) kept[g] = 1;
    for (int64_t e = 0; e < n; ++e) {
      if (!kept[e / per_group]) biased[e] = -std::numeric_limits<float>::infinity();
    }
  }
  top_k_indices(biased, config.top_k, &out->experts);
  out->weights.resize(out->experts.size());
  out->scores.resize(out->experts.size());
  float sum = 0.0f;
  for (size_t i = 0; i < out->experts.size(); ++i) {
    out->weights[i] = scores[out->experts[i]];
    out->scores[i] = scores[out->experts[i]];
    sum += out->weights[i];
  }
  // Candidates: unmasked biased scores of the experts not chosen, ties to the lower index.
  std::vector<uint8_t>& chosen = scratch.chosen;
  chosen.assign(static_cast<size_t>(n), 0);
  for (int32_t e : out->experts) chosen[e] = 1;
  std::vector<std::pair<float, int32_t>>& rest = scratch.rest;
  rest.clear();
  for (int64_t e = 0; e < n; ++e) {
    if (!chosen[e]) rest.emplace_back(biased[e], static_cast<int32_t>(e));
  }
  const auto keep = std::min<size_t>(static_cast<size_t>(kRouterCandidates), rest.size());
  std::partial_sort(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(keep), rest.end(),
                    [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  out->candidates.resize(keep);
  out->candidate_scores.resize(keep);
  for (size_t i = 0; i < keep; ++i) {
    out->candidates[i] = rest[i].second;
    out->candidate_scores[i] = scores[rest[i].second];
  }
  for (float& w : out->weights) {
    if (config.normalize) w /= sum;
    w *= config.scaling;
  }
}

}  // namespace moestream
