// DeepSeek-V3 expert selection ("noaux_tc", docs/model-math.md §9), all in float32:
//   s = sigmoid(router logits); b = s + e_score_correction_bias (for choosing only);
//   group score = sum of the two largest b in each of n_group groups; keep topk_group groups;
//   pick the top-k b among the kept groups; weights = s / sum(s of picked) (norm_topk_prob)
//   times routed_scaling_factor. Masked experts are -inf, never 0.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "format/model_config.h"
#include "platform/status.h"

namespace moestream {

struct RouterConfig {
  int64_t experts = 0;
  int64_t groups = 1;
  int64_t kept_groups = 1;
  int64_t top_k = 0;
  float scaling = 1.0f;
  bool normalize = true;

  static Result<RouterConfig> from_config(const ModelConfig& config);
};

// Router affinity of one expert: sigmoid of its logit (docs/model-math.md §9.1).
inline float router_affinity(float logit) { return 1.0f / (1.0f + std::exp(-logit)); }
// The score experts are chosen by: affinity plus the correction bias (bias may be null).
inline float router_choice_score(float logit, const float* bias, int64_t expert) {
  return router_affinity(logit) + (bias ? bias[expert] : 0.0f);
}

// Next-best experts route_token() reports after the chosen ones (traces, profiling).
inline constexpr int64_t kRouterCandidates = 8;

struct RoutingDecision {
  std::vector<int32_t> experts;  // in selection order (highest biased score first)
  std::vector<float> weights;    // gating weight of each, scaling applied
  std::vector<int32_t> kept_groups;
  std::vector<float> scores;     // router affinity of each chosen expert (sigmoid, before the bias)
  // The next-best experts that were not chosen, by biased score over all experts (the group
  // mask ignored, as pre-gating ranks its margin), best first, at most kRouterCandidates,
  // with their affinities. Informational: never used for the layer's output.
  std::vector<int32_t> candidates;
  std::vector<float> candidate_scores;
};

// logits: the router's raw outputs for one token (config.experts values); bias may be null.
void route_token(const RouterConfig& config, const float* logits, const float* bias,
                 RoutingDecision* out);

}  // namespace moestream
