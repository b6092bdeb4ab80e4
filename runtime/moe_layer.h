// A DeepSeek-V3 MoE feed-forward layer: router (moe_router.h), routed experts reached only
// through the ExpertProvider (acquired once per chunk for all tokens that picked them), and
// the shared experts, which are resident and not scaled.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "format/model_config.h"
#include "kernels/weight_ref.h"
#include "platform/scratch_arena.h"
#include "platform/status.h"
#include "runtime/dense_ffn.h"
#include "runtime/expert_provider.h"
#include "runtime/moe_router.h"
#include "runtime/weight_source.h"

namespace moestream {

// Called once per MoE layer and token with the router's decision (tests, traces).
using RoutingObserver =
    std::function<void(int64_t layer, int64_t position, const RoutingDecision& decision)>;
// Called with the shared experts' output ([T, hidden]) as soon as it is computed, while the
// routed experts' reads are still in flight (pre-gating the next layer from a closer guess of
// its input).
using SharedOutputHook = std::function<void(const float* shared_out)>;

class MoeLayer {
 public:
  static Result<MoeLayer> load(const WeightSource& source, const ModelConfig& config,
                               int64_t layer);

  int64_t layer() const { return layer_; }

  // x: [T, hidden] (already normed), row t at position positions[t] (rows of several
  // sequences may share a step); out: [T, hidden]. Each routed expert is acquired once for
  // all rows that picked it. Working memory comes from `arena`. `after_shared` (optional) is
  // called once the shared experts are done (not at all without shared experts).
  Status forward(const float* x, int64_t tokens, const int64_t* positions, ExpertProvider& experts,
                 const RoutingObserver* observer, float* out, ScratchArena& arena,
                 const SharedOutputHook* after_shared = nullptr) const;

  // Pre-gating: this layer's router applied to `x` ([T, hidden], normed as this layer's
  // input would be) names the experts it will probably pick: per token the top-k plus the
  // `margin` next-best, ranked by votes over the tokens, at most top-k + margin of them.
  // `scores` (optional): for each, its router affinity (sigmoid, no bias) averaged over the
  // tokens.
  void predict_experts(const float* x, int64_t tokens, int64_t margin, std::vector<int64_t>* out,
                       std::vector<float>* scores = nullptr) const;

  // Guesses over at most this many rows (decode steps, batches) reuse buffers kept between
  // steps, so a decode step allocates nothing; a prompt chunk's guess, rare and up to
  // chunk x hidden floats, takes transient ones rather than keep that much after the prompt.
  static constexpr int64_t kKeptGuessRows = 256;

 private:
  int64_t layer_ = -1;
  int64_t hidden_ = 0;
  int64_t expert_width_ = 0;
  RouterConfig router_;
  kernels::WeightRef router_weight_;  // [experts, hidden]
  std::vector<float> router_bias_;    // empty when the checkpoint has none
  std::optional<SwigluWeights> shared_;
};

}  // namespace moestream
