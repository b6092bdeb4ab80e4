#include "runtime/streaming_expert_provider.h"

#include <algorithm>

namespace moestream {

StreamingExpertProvider::StreamingExpertProvider(const ContainerReader& reader, ExpertCache& cache)
    : reader_(reader), cache_(cache) {
  window_limit_ = std::max<int64_t>(1, cache.slot_count() - cache.hot_set_size());
}

Result<AcquiredExpert> StreamingExpertProvider::make_acquired(int64_t layer, const ReadyExpert& ready) {
  AcquiredExpert a;
  a.layer = layer;
  a.expert = ready.expert;
  a.token = static_cast<uint64_t>(ready.slot);
  auto weights = reader_.expert_weights(layer, ready.expert, ready.data);
  if (!weights.ok()) {
    cache_.unpin(layer, ready.expert);
    return weights.status();
  }
  a.weights = *weights;
  ++outstanding_;
  return a;
}

Result<AcquiredExpert> StreamingExpertProvider::acquire(int64_t layer, int64_t expert) {
  const int64_t one[1] = {expert};
  MOESTREAM_TRY(cache_.pin(layer, one));
  auto ready = cache_.wait_any(layer, one);
  if (!ready.ok()) {
    cache_.unpin(layer, expert);
    return ready.status();
  }
  return make_acquired(layer, *ready);
}

void StreamingExpertProvider::release(const AcquiredExpert& expert) {
  cache_.unpin(expert.layer, expert.expert);
  --outstanding_;
  auto it = std::find(batch_taken_.begin(), batch_taken_.end(), expert.expert);
  if (expert.layer == batch_layer_ && it != batch_taken_.end()) {
    batch_taken_.erase(it);
    // A slot came free: pin the next experts of the batch (errors surface on the next take).
    (void)top_up_window();
  }
}

void StreamingExpertProvider::prefetch(int64_t layer, std::span<const int64_t> experts) {
  const auto slot = static_cast<size_t>(layer);
  if (slot >= predicted_.size()) {
    predicted_.resize(slot + 1);
    has_prediction_.resize(slot + 1, 0);
  }
  predicted_[slot].assign(experts.begin(), experts.end());
  has_prediction_[slot] = 1;
  ++recall_.hints;
  if (recent_precision_ < min_precision_) {
    ++recall_.gated;  // scored when the layer runs, so the gate opens again if guesses improve
    return;
  }
  // Guesses come best first. Reading more than a quarter of the slots ahead (a prompt chunk's
  // union, or a small cache) would evict what the layers in between still use: read the best
  // quarter. Refusing the whole hint instead left a 22-slot cache with no prefetch at all.
  const auto limit = static_cast<size_t>(std::max<int64_t>(1, window_limit_ / 4));
  if (experts.size() > limit) {
    ++recall_.truncated;
    experts = experts.first(limit);
  }
  // A newer guess for the layer (made closer to it) replaces the older one's unstarted reads.
  cache_.cancel_prefetches(layer, experts);
  cache_.prefetch(layer, experts);
}

Status StreamingExpertProvider::top_up_window() {
  const int64_t held = static_cast<int64_t>(batch_pinned_.size() + batch_taken_.size());
  const int64_t room = window_limit_ - held;
  if (room <= 0 || batch_pending_.empty()) return ok_status();
  const auto n = static_cast<size_t>(std::min<int64_t>(room, static_cast<int64_t>(batch_pending_.size())));
  std::vector<int64_t>& next = batch_next_;
  next.assign(batch_pending_.begin(), batch_pending_.begin() + static_cast<std::ptrdiff_t>(n));
  batch_pending_.erase(batch_pending_.begin(), batch_pending_.begin() + static_cast<std::ptrdiff_t>(n));
  Status s = cache_.pin(batch_layer_, next);
  if (!s.ok()) {
    // pin() may have pinned a prefix before failing: unpin those, and keep all of them
    // pending so that a later top-up (or the caller) sees the error again.
    for (int64_t e : next) cache_.unpin(batch_layer_, e);
    batch_pending_.insert(batch_pending_.begin(), next.begin(), next.end());
    return s;
  }
  batch_pinned_.insert(batch_pinned_.end(), next.begin(), next.end());
  return ok_status();
}

Status StreamingExpertProvider::begin_batch(int64_t layer, std::span<const int64_t> experts) {
  end_batch();
  // The real routing is known: guesses for this layer that have not started reading never will.
  cache_.cancel_prefetches(layer, experts);
  batch_layer_ = layer;
  batch_pending_.assign(experts.begin(), experts.end());
  if (const auto slot = static_cast<size_t>(layer); slot < has_prediction_.size() && has_prediction_[slot]) {
    const std::vector<int64_t>& guess = predicted_[slot];
    uint64_t correct = 0;
    for (int64_t e : experts) {
      if (std::find(guess.begin(), guess.end(), e) != guess.end()) ++correct;
    }
    recall_.predicted += guess.size();
    recall_.needed += experts.size();
    recall_.correct += correct;
    if (!guess.empty()) {
      // About the last 10 layer steps.
      const double step = static_cast<double>(correct) / static_cast<double>(guess.size());
      recent_precision_ = 0.9 * recent_precision_ + 0.1 * step;
    }
    has_prediction_[slot] = 0;
  }
  return top_up_window();
}

Result<AcquiredExpert> StreamingExpertProvider::acquire_next_ready() {
  if (batch_pinned_.empty()) {
    MOESTREAM_TRY(top_up_window());
    if (batch_pinned_.empty()) return internal_error("acquire_next_ready: the batch is exhausted");
  }
  MOESTREAM_ASSIGN_OR_RETURN(ReadyExpert ready, cache_.wait_any(batch_layer_, batch_pinned_));
  batch_pinned_.erase(std::find(batch_pinned_.begin(), batch_pinned_.end(), ready.expert));
  batch_taken_.push_back(ready.expert);
  auto acquired = make_acquired(batch_layer_, ready);
  if (!acquired.ok()) batch_taken_.pop_back();
  return acquired;
}

void StreamingExpertProvider::end_batch() {
  for (int64_t e : batch_pinned_) cache_.unpin(batch_layer_, e);
  batch_pinned_.clear();
  batch_pending_.clear();
  // Taken experts are released by their leases.
}

DiskActivity StreamingExpertProvider::disk_activity() const {
  const LoaderCounters c = cache_.loader().counters();
  return {c.busy_ns, c.bytes_read};
}

}  // namespace moestream
