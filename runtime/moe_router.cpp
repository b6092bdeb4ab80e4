#include "runtime/moe_router.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace moestream {
namespace {

// Indices of the k largest values, largest first; ties go to the lower index.
std::vector<int32_t> top_k_indices(const std::vector<float>& values, int64_t k) {
  std::vector<int32_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return values[a] > values[b]; });
  order.resize(static_cast<size_t>(k));
  return order;
}

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
  std::vector<float> scores(static_cast<size_t>(n));
  std::vector<float> biased(static_cast<size_t>(n));
  for (int64_t e = 0; e < n; ++e) {
    scores[e] = router_affinity(logits[e]);
    biased[e] = router_choice_score(logits[e], bias, e);
  }
  out->kept_groups.clear();
  if (config.groups > 1) {
    const int64_t per_group = n / config.groups;
    const int64_t summed = std::min<int64_t>(2, per_group);
    std::vector<float> group_scores(static_cast<size_t>(config.groups));
    for (int64_t g = 0; g < config.groups; ++g) {
      std::vector<float> members(biased.begin() + g * per_group, biased.begin() + (g + 1) * per_group);
      std::partial_sort(members.begin(), members.begin() + summed, members.end(), std::greater<float>());
      float sum = 0.0f;
      for (int64_t i = 0; i < summed; ++i) sum += members[i];
      group_scores[g] = sum;
    }
    out->kept_groups = top_k_indices(group_scores, config.kept_groups);
    std::vector<bool> kept(static_cast<size_t>(config.groups), false);
    for (int32_t g : out->kept_groups) kept[g] = true;
    for (int64_t e = 0; e < n; ++e) {
      if (!kept[e / per_group]) biased[e] = -std::numeric_limits<float>::infinity();
    }
  }
  out->experts = top_k_indices(biased, config.top_k);
  out->weights.resize(out->experts.size());
  out->scores.resize(out->experts.size());
  float sum = 0.0f;
  for (size_t i = 0; i < out->experts.size(); ++i) {
    out->weights[i] = scores[out->experts[i]];
    out->scores[i] = scores[out->experts[i]];
    sum += out->weights[i];
  }
  // Candidates: unmasked biased scores of the experts not chosen, ties to the lower index.
  std::vector<bool> chosen(static_cast<size_t>(n), false);
  for (int32_t e : out->experts) chosen[e] = true;
  std::vector<std::pair<float, int32_t>> rest;
  rest.reserve(static_cast<size_t>(n));
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
