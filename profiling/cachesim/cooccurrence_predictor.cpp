#include "profiling/cachesim/cooccurrence_predictor.h"

#include <algorithm>
#include <cstdint>
#include <numeric>

namespace moestream::cachesim {

CoOccurrencePredictor::CoOccurrencePredictor(const RoutingTrace& trace, size_t train_end_step)
    : trace_(trace),
      n_(trace.num_experts),
      pair_counts_(size_t{trace.num_layers} * n_ * n_, 0),
      popularity_(size_t{trace.num_layers} * n_, 0),
      score_(n_),
      order_(n_) {
  const uint32_t k = trace.top_k;
  for (size_t s = 0; s < train_end_step; ++s) {
    const size_t layer = trace.step_layer[s];
    const uint16_t* now = trace.step_experts(s);
    for (uint32_t j = 0; j < k; ++j) ++popularity_[layer * n_ + now[j]];
    size_t prev = previous_layer_step(s);
    if (prev == SIZE_MAX) continue;
    const uint16_t* before = trace.step_experts(prev);
    for (uint32_t i = 0; i < k; ++i) {
      uint32_t* row = &pair_counts_[(layer * n_ + before[i]) * n_];
      for (uint32_t j = 0; j < k; ++j) ++row[now[j]];
    }
  }
}

size_t CoOccurrencePredictor::previous_layer_step(size_t step) const {
  if (step == 0) return SIZE_MAX;
  const size_t prev = step - 1;
  if (trace_.step_token[prev] != trace_.step_token[step] ||
      trace_.step_layer[prev] + 1 != trace_.step_layer[step])
    return SIZE_MAX;
  return prev;
}

void CoOccurrencePredictor::predict(size_t step, uint32_t budget,
                                    std::vector<uint16_t>* out) const {
  out->clear();
  size_t prev = previous_layer_step(step);
  if (prev == SIZE_MAX || budget == 0) return;
  const size_t layer = trace_.step_layer[step];
  std::fill(score_.begin(), score_.end(), 0);
  const uint16_t* before = trace_.step_experts(prev);
  for (uint32_t i = 0; i < trace_.top_k; ++i) {
    const uint32_t* row = &pair_counts_[(layer * n_ + before[i]) * n_];
    for (uint32_t b = 0; b < n_; ++b) score_[b] += row[b];
  }
  const uint64_t* pop = &popularity_[layer * n_];
  std::iota(order_.begin(), order_.end(), uint16_t{0});
  const size_t m = std::min<size_t>(budget, n_);
  std::partial_sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(m), order_.end(),
                    [&](uint16_t a, uint16_t b) {
                      if (score_[a] != score_[b]) return score_[a] > score_[b];
                      if (pop[a] != pop[b]) return pop[a] > pop[b];
                      return a < b;
                    });
  out->assign(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(m));
}

}  // namespace moestream::cachesim
