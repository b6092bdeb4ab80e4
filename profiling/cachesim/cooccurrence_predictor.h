// Predicts layer l's experts from the same token's layer l-1 experts with a co-occurrence
// table learned on training steps: score(b) = sum over a in S(l-1) of count(l, a -> b);
// ties go to b's popularity at layer l, then to the lower id.
#pragma once

#include <cstdint>
#include <vector>

#include "profiling/cachesim/prefetch_predictor.h"
#include "profiling/cachesim/routing_trace.h"

namespace moestream::cachesim {

class CoOccurrencePredictor final : public PrefetchPredictor {
 public:
  // Learns from steps [0, train_end_step).
  CoOccurrencePredictor(const RoutingTrace& trace, size_t train_end_step);
  void predict(size_t step, uint32_t budget, std::vector<uint16_t>* out) const override;

 private:
  // Index of step s-1 when it is the same token's previous MoE layer, else SIZE_MAX.
  size_t previous_layer_step(size_t step) const;

  const RoutingTrace& trace_;
  uint32_t n_;
  std::vector<uint32_t> pair_counts_;   // [layer][a][b], layer = the predicted layer
  std::vector<uint64_t> popularity_;    // [layer][b]
  mutable std::vector<uint64_t> score_;
  mutable std::vector<uint16_t> order_;
};

}  // namespace moestream::cachesim
