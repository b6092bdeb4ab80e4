// Prefetch models for the simulator: before step s (layer l of a token) runs, a predictor
// names up to `budget` experts of layer l; those not resident are loaded ahead of demand.
//  - oracle next layer: names exactly the experts the step will use (upper bound of any
//    next-layer predictor: every miss is taken off the critical path, no waste);
//  - co-occurrence: the same token's layer l-1 experts vote through a layer l-1 -> l
//    co-occurrence table learned on the training split (IDs only; ExFlow-style affinity);
//  - pre-gating: the guesses the runtime's prefetcher recorded in an .mstrace (layer l's
//    router applied to layer l-1's hidden state). CSV traces have no scores: not available.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "profiling/cachesim/routing_trace.h"

namespace moestream::cachesim {

enum class PrefetchKind { kNone, kOracleNextLayer, kCoOccurrence, kPregate };

std::string_view prefetch_name(PrefetchKind kind);          // CLI spelling
std::string_view prefetch_display_name(PrefetchKind kind);  // tables
std::optional<PrefetchKind> parse_prefetch(std::string_view name);

class PrefetchPredictor {
 public:
  virtual ~PrefetchPredictor() = default;
  // Experts to prefetch for step `step`, best first, at most `budget`; empty: no guess
  // (e.g. the first MoE layer of a token has no earlier layer to learn from).
  virtual void predict(size_t step, uint32_t budget, std::vector<uint16_t>* out) const = 0;
};

class OracleNextLayerPredictor final : public PrefetchPredictor {
 public:
  explicit OracleNextLayerPredictor(const RoutingTrace& trace) : trace_(trace) {}
  void predict(size_t step, uint32_t budget, std::vector<uint16_t>* out) const override;

 private:
  const RoutingTrace& trace_;
};

class PregatePredictor final : public PrefetchPredictor {
 public:
  explicit PregatePredictor(const RoutingTrace& trace) : trace_(trace) {}
  void predict(size_t step, uint32_t budget, std::vector<uint16_t>* out) const override;

 private:
  const RoutingTrace& trace_;
};

}  // namespace moestream::cachesim
