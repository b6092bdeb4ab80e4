#include "runtime/moe_layer.h"

#include <algorithm>
#include <cmath>

#include "kernels/fused_expert.h"
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

Status MoeLayer::forward(const float* x, int64_t tokens, const int64_t* positions,
                         ExpertProvider& experts, const RoutingObserver* observer, float* out,
                         ScratchArena& arena, const SharedOutputHook* after_shared) const {
  ScratchArena::Scope scope(arena);
  const int64_t n = router_.experts;
  const int64_t k = router_.top_k;
  // Router logits in float32 (the weight is BF16; accumulation is float32).
  float* logits = arena.take<float>(static_cast<size_t>(tokens * n));
  kernels::matmul(router_weight_, x, tokens, logits);

  // Routing, then the (row, gate weight) pairs grouped by expert (a counting sort, stable in
  // the row): users of expert e are [first[e], first[e + 1]).
  int32_t* chosen = arena.take<int32_t>(static_cast<size_t>(tokens * k));
  float* chosen_weight = arena.take<float>(static_cast<size_t>(tokens * k));
  int64_t* first = arena.take<int64_t>(static_cast<size_t>(n + 1));
  std::fill(first, first + n + 1, 0);
  thread_local RoutingDecision decision;  // its vectors keep their capacity between calls
  for (int64_t t = 0; t < tokens; ++t) {
    route_token(router_, logits + t * n, router_bias_.empty() ? nullptr : router_bias_.data(), &decision);
    if (observer && *observer) (*observer)(layer_, positions[t], decision);
    for (int64_t i = 0; i < k; ++i) {
      chosen[t * k + i] = decision.experts[i];
      chosen_weight[t * k + i] = decision.weights[i];
      ++first[decision.experts[i] + 1];
    }
  }
  int64_t max_users = 0;
  int64_t* needed = arena.take<int64_t>(static_cast<size_t>(n));
  int64_t needed_count = 0;
  for (int64_t e = 0; e < n; ++e) {
    max_users = std::max(max_users, first[e + 1]);
    if (first[e + 1] > 0) needed[needed_count++] = e;
    first[e + 1] += first[e];
  }
  int64_t* user_row = arena.take<int64_t>(static_cast<size_t>(tokens * k));
  float* user_weight = arena.take<float>(static_cast<size_t>(tokens * k));
  int64_t* fill = arena.take<int64_t>(static_cast<size_t>(n));
  std::copy_n(first, n, fill);
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t i = 0; i < k; ++i) {
      const int64_t slot = fill[chosen[t * k + i]]++;
      user_row[slot] = t;
      user_weight[slot] = chosen_weight[t * k + i];
    }
  }

  // Each routed expert is computed as soon as the provider has it (hits first, misses as
  // their reads land) into its rows of expert_out; the outputs are then summed in ascending
  // expert order, so the result does not depend on the order in which reads complete.
  float* expert_out = arena.take<float>(static_cast<size_t>(tokens * k * hidden_));
  float* gathered = arena.take<float>(static_cast<size_t>(max_users * hidden_));
  float* ffn_scratch = arena.take<float>(static_cast<size_t>(2 * max_users * expert_width_));
  uint8_t* delivered = arena.take<uint8_t>(static_cast<size_t>(n));
  std::fill(delivered, delivered + n, 0);
  MOESTREAM_TRY(experts.begin_batch(layer_, std::span<const int64_t>(needed, static_cast<size_t>(needed_count))));
  // The shared expert runs while the batch's missed experts are being read: it needs no read.
  float* shared_out = nullptr;
  if (shared_) {
    shared_out = arena.take<float>(static_cast<size_t>(tokens * hidden_));
    swiglu_ffn(*shared_, x, tokens, shared_out, arena);
    if (after_shared && *after_shared) (*after_shared)(shared_out);
  }
  for (int64_t done = 0; done < needed_count; ++done) {
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
    if (e < 0 || e >= n || first[e + 1] == first[e] || weights->width() != expert_width_) {
      experts.end_batch();
      return internal_error("layer " + std::to_string(layer_) + ": the provider delivered expert " +
                            std::to_string(e) + ", which was not asked for");
    }
    const int64_t begin = first[e], m = first[e + 1] - first[e];
    for (int64_t i = 0; i < m; ++i) {
      std::copy_n(x + user_row[begin + i] * hidden_, hidden_, gathered + i * hidden_);
    }
    kernels::swiglu_expert(weights->gate, weights->up, weights->down, gathered, m,
                           expert_out + begin * hidden_, ffn_scratch);
    delivered[e] = 1;
  }
  experts.end_batch();
  std::fill(out, out + tokens * hidden_, 0.0f);
  for (int64_t j = 0; j < needed_count; ++j) {
    const int64_t e = needed[j];
    if (!delivered[e]) {
      return internal_error("layer " + std::to_string(layer_) + ": the provider did not deliver expert " +
                            std::to_string(e));
    }
    for (int64_t u = first[e]; u < first[e + 1]; ++u) {
      float* dst = out + user_row[u] * hidden_;
      const float* src = expert_out + u * hidden_;
      const float w = user_weight[u];
      for (int64_t i = 0; i < hidden_; ++i) dst[i] += w * src[i];
    }
  }
  if (shared_out) {
    for (int64_t i = 0; i < tokens * hidden_; ++i) out[i] += shared_out[i];
  }
  return ok_status();
}

}  // namespace moestream

namespace moestream {
namespace {

// Per-thread working buffers of predict_experts, kept between calls: a decode step with
// prefetch allocates nothing once warm, as without.
struct PredictScratch {
  std::vector<float> logits;
  std::vector<int64_t> votes, first_seen;
  std::vector<uint8_t> picked, chosen;
  std::vector<std::pair<float, int64_t>> rest;
  RoutingDecision decision;
};

}  // namespace

void MoeLayer::predict_experts(const float* x, int64_t tokens, int64_t margin,
                               std::vector<int64_t>* out, std::vector<float>* scores) const {
  out->clear();
  const int64_t n = router_.experts;
  thread_local PredictScratch scratch;
  std::vector<float> chunk_logits;
  std::vector<float>& logits = tokens <= kKeptGuessRows ? scratch.logits : chunk_logits;
  logits.resize(static_cast<size_t>(tokens * n));
  kernels::matmul(router_weight_, x, tokens, logits.data());
  // Votes: each token's top-k, then its `margin` next-best by biased score.
  std::vector<int64_t>& votes = scratch.votes;
  std::vector<int64_t>& first_seen = scratch.first_seen;
  std::vector<uint8_t>& picked = scratch.picked;  // in some row's top-k
  std::vector<uint8_t>& chosen = scratch.chosen;
  votes.assign(static_cast<size_t>(n), 0);
  first_seen.assign(static_cast<size_t>(n), -1);
  picked.assign(static_cast<size_t>(n), 0);
  int64_t order = 0;
  RoutingDecision& decision = scratch.decision;
  std::vector<std::pair<float, int64_t>>& rest = scratch.rest;
  for (int64_t t = 0; t < tokens; ++t) {
    const float* row = logits.data() + t * n;
    route_token(router_, row, router_bias_.empty() ? nullptr : router_bias_.data(), &decision);
    chosen.assign(static_cast<size_t>(n), 0);
    auto vote = [&](int64_t e) {
      ++votes[e];
      if (first_seen[e] < 0) first_seen[e] = order++;
      chosen[e] = 1;
    };
    for (int32_t e : decision.experts) {
      vote(e);
      picked[static_cast<size_t>(e)] = 1;
    }
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
  // One token: its top-k + margin. Several (a batch, a prompt chunk): at least every expert
  // some row picks, since the layer will need them all.
  size_t cap = static_cast<size_t>(router_.top_k + std::max<int64_t>(0, margin));
  if (tokens > 1) cap = std::max<size_t>(cap, static_cast<size_t>(std::count(picked.begin(), picked.end(), uint8_t{1})));
  out->resize(std::min<size_t>(out->size(), cap));
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
