#include "runtime/moe_layer.h"

#include <algorithm>
#include <cmath>

#include "kernels/matmul.h"
#include "runtime/linear.h"

namespace moestream {

Result<MoeLayer> MoeLayer::load(const WeightSource& source, const ModelConfig& config,
                                int64_t layer) {
  MoeLayer moe;
  moe.layer_ = layer;
  moe.hidden_ = config.hidden_size;
  moe.expert_width_ = config.moe_intermediate_size;
  MOESTREAM_ASSIGN_OR_RETURN(moe.router_, RouterConfig::from_config(config));
  const std::string p = layer_prefix(layer) + "mlp.";
  MOESTREAM_ASSIGN_OR_RETURN(moe.router_weight_,
                             load_weight(source, p + "gate.weight", moe.router_.experts, moe.hidden_));
  const std::string bias_name = p + "gate.e_score_correction_bias";
  if (source.has_tensor(bias_name)) {
    MOESTREAM_ASSIGN_OR_RETURN(moe.router_bias_, load_vector(source, bias_name, moe.router_.experts));
  } else if (config.topk_method == "noaux_tc") {
    return not_found(bias_name + ": missing (topk_method noaux_tc needs the router correction bias)");
  }
  if (config.n_shared_experts > 0) {
    MOESTREAM_ASSIGN_OR_RETURN(
        moe.shared_, load_swiglu(source, p + "shared_experts.", moe.hidden_,
                                 config.n_shared_experts * config.moe_intermediate_size));
  }
  return moe;
}

Status MoeLayer::forward(const float* x, int64_t tokens, int64_t start, ExpertProvider& experts,
                         const RoutingObserver* observer, float* out) const {
  const int64_t n = router_.experts;
  // Router logits in float32 (the weight is BF16; accumulation is float32).
  std::vector<float> logits(static_cast<size_t>(tokens * n));
  kernels::matmul(router_weight_, x, tokens, logits.data());

  // Per expert, the tokens that picked it and their gating weights.
  std::vector<std::vector<std::pair<int64_t, float>>> assigned(static_cast<size_t>(n));
  RoutingDecision decision;
  for (int64_t t = 0; t < tokens; ++t) {
    route_token(router_, logits.data() + t * n, router_bias_.empty() ? nullptr : router_bias_.data(),
                &decision);
    if (observer && *observer) (*observer)(layer_, start + t, decision);
    for (size_t i = 0; i < decision.experts.size(); ++i) {
      assigned[decision.experts[i]].emplace_back(t, decision.weights[i]);
    }
  }

  // Each routed expert is computed as soon as the provider has it (hits first, misses as
  // their reads land) into its own buffer; the outputs are then summed in ascending expert
  // order, so the result does not depend on the order in which reads complete.
  std::vector<int64_t> needed;
  for (int64_t e = 0; e < n; ++e) {
    if (!assigned[e].empty()) needed.push_back(e);
  }
  std::vector<std::vector<float>> expert_outs(static_cast<size_t>(n));
  MOESTREAM_TRY(experts.begin_batch(layer_, needed));
  std::vector<float> gathered;
  for (size_t done = 0; done < needed.size(); ++done) {
    auto acquired = experts.acquire_next_ready();
    if (!acquired.ok()) {
      experts.end_batch();
      return acquired.status().with_context("layer " + std::to_string(layer_));
    }
    const int64_t e = acquired->expert;
    ExpertLease lease(experts, std::move(acquired).value());
    auto weights = swiglu_from_views(lease.weights().gate, lease.weights().up,
                                     lease.weights().down, hidden_, expert_width_);
    if (!weights.ok()) {
      experts.end_batch();
      return weights.status().with_context("layer " + std::to_string(layer_) + " expert " +
                                           std::to_string(e));
    }
    const auto& users = assigned[e];
    const int64_t m = static_cast<int64_t>(users.size());
    gathered.resize(static_cast<size_t>(m * hidden_));
    std::vector<float>& expert_out = expert_outs[e];
    expert_out.resize(static_cast<size_t>(m * hidden_));
    for (int64_t i = 0; i < m; ++i) {
      std::copy_n(x + users[i].first * hidden_, hidden_, gathered.data() + i * hidden_);
    }
    swiglu_ffn(*weights, gathered.data(), m, expert_out.data());
  }
  experts.end_batch();
  std::fill(out, out + tokens * hidden_, 0.0f);
  for (int64_t e : needed) {
    const auto& users = assigned[e];
    const std::vector<float>& expert_out = expert_outs[e];
    if (expert_out.size() != users.size() * static_cast<size_t>(hidden_)) {
      return internal_error("layer " + std::to_string(layer_) + ": the provider did not deliver expert " +
                            std::to_string(e));
    }
    for (size_t i = 0; i < users.size(); ++i) {
      float* dst = out + users[i].first * hidden_;
      const float* src = expert_out.data() + i * hidden_;
      const float w = users[i].second;
      for (int64_t j = 0; j < hidden_; ++j) dst[j] += w * src[j];
    }
  }
  if (shared_) {
    std::vector<float> shared_out(static_cast<size_t>(tokens * hidden_));
    swiglu_ffn(*shared_, x, tokens, shared_out.data());
    for (size_t i = 0; i < shared_out.size(); ++i) out[i] += shared_out[i];
  }
  return ok_status();
}

}  // namespace moestream

namespace moestream {

void MoeLayer::predict_experts(const float* x, int64_t tokens, int64_t margin,
                               std::vector<int64_t>* out, std::vector<float>* scores) const {
  out->clear();
  const int64_t n = router_.experts;
  std::vector<float> logits(static_cast<size_t>(tokens * n));
  kernels::matmul(router_weight_, x, tokens, logits.data());
  // Votes: each token's top-k, then its `margin` next-best by biased score.
  std::vector<int64_t> votes(static_cast<size_t>(n), 0), first_seen(static_cast<size_t>(n), -1);
  int64_t order = 0;
  RoutingDecision decision;
  std::vector<std::pair<float, int64_t>> rest;
  for (int64_t t = 0; t < tokens; ++t) {
    const float* row = logits.data() + t * n;
    route_token(router_, row, router_bias_.empty() ? nullptr : router_bias_.data(), &decision);
    std::vector<bool> chosen(static_cast<size_t>(n), false);
    auto vote = [&](int64_t e) {
      ++votes[e];
      if (first_seen[e] < 0) first_seen[e] = order++;
      chosen[e] = true;
    };
    for (int32_t e : decision.experts) vote(e);
    if (margin > 0) {
      rest.clear();
      for (int64_t e = 0; e < n; ++e) {
        if (chosen[e]) continue;
        const float score = router_choice_score(row[e], router_bias_.empty() ? nullptr : router_bias_.data(), e);
        rest.emplace_back(score, e);
      }
      const auto keep = std::min<size_t>(static_cast<size_t>(margin), rest.size());
      std::partial_sort(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(keep), rest.end(),
                        [](const auto& a, const auto& b) { return a.first > b.first; });
      for (size_t i = 0; i < keep; ++i) vote(rest[i].second);
    }
  }
  for (int64_t e = 0; e < n; ++e) {
    if (votes[e] > 0) out->push_back(e);
  }
  // Most votes first, then first named; at most top-k + margin of them.
  std::sort(out->begin(), out->end(), [&](int64_t a, int64_t b) {
    return votes[a] != votes[b] ? votes[a] > votes[b] : first_seen[a] < first_seen[b];
  });
  out->resize(std::min<size_t>(out->size(), static_cast<size_t>(router_.top_k + std::max<int64_t>(0, margin))));
  if (scores) {
    scores->assign(out->size(), 0.0f);
    for (size_t i = 0; i < out->size(); ++i) {
      float sum = 0.0f;
      for (int64_t t = 0; t < tokens; ++t) sum += router_affinity(logits[t * n + (*out)[i]]);
      (*scores)[i] = sum / static_cast<float>(tokens);
    }
  }
}

}  // namespace moestream
