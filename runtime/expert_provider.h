// The only way the forward pass reaches a routed expert's weights: acquire (layer, expert),
// use the views, release. A streaming cache implements this by pinning a slot (and loading
// it on a miss); ResidentExpertProvider (container_weights.h) just hands out views of the
// mmapped container.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "format/container_reader.h"
#include "platform/status.h"
#include "runtime/op_times.h"

namespace moestream {

struct AcquiredExpert {
  int64_t layer = -1;
  int64_t expert = -1;
  ExpertWeights weights;  // valid until release()
  uint64_t token = 0;     // provider-private (e.g. a cache slot id)
};

class ExpertProvider {
 public:
  virtual ~ExpertProvider() = default;
  virtual Result<AcquiredExpert> acquire(int64_t layer, int64_t expert) = 0;
  virtual void release(const AcquiredExpert& expert) = 0;

  // A hint: these experts of `layer` will probably be wanted soon (pre-gating). Never fails.
  virtual void prefetch(int64_t layer, std::span<const int64_t> experts) {
    (void)layer;
    (void)experts;
  }
  // Batch form for one layer: announce every expert it needs (distinct), then take them with
  // acquire_next_ready() in whatever order they become available (a streaming provider
  // returns hits first and misses as their reads complete), release each, and end_batch().
  // The defaults hand them out in the given order through acquire().
  virtual Status begin_batch(int64_t layer, std::span<const int64_t> experts) {
    batch_layer_ = layer;
    batch_.assign(experts.begin(), experts.end());
    batch_next_ = 0;
    return ok_status();
  }
  virtual Result<AcquiredExpert> acquire_next_ready() {
    if (batch_next_ >= batch_.size()) return internal_error("acquire_next_ready: the batch is exhausted");
    return acquire(batch_layer_, batch_[batch_next_++]);
  }
  // Releases what the batch still holds that was never acquired (after an error).
  virtual void end_batch() { batch_.clear(); }
  // What its reads have done on the device so far (zero for a provider that does not read).
  virtual DiskActivity disk_activity() const { return {}; }

 private:
  int64_t batch_layer_ = -1;
  std::vector<int64_t> batch_;
  size_t batch_next_ = 0;
};

// Releases an acquired expert when it goes out of scope.
class ExpertLease {
 public:
  ExpertLease(ExpertProvider& provider, AcquiredExpert expert)
      : provider_(&provider), expert_(std::move(expert)) {}
  ~ExpertLease() { provider_->release(expert_); }
  ExpertLease(const ExpertLease&) = delete;
  ExpertLease& operator=(const ExpertLease&) = delete;
  const ExpertWeights& weights() const { return expert_.weights; }

 private:
  ExpertProvider* provider_;
  AcquiredExpert expert_;
};

}  // namespace moestream
