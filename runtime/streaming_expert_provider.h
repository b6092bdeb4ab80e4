// The ExpertProvider of streaming mode: routed experts come from the ExpertCache (RAM slots
// filled from the container with O_DIRECT reads), never from the mmapped file. Batches pin
// at most as many experts as the cache has demand slots, topping the window up as experts are
// released, so a layer may need more distinct experts than fit at once. Prefetch hints go to
// the cache, and their recall against what the layer then asks for is counted.
//
// Prefetch is gated on its measured precision (the share of named experts the layer then
// used, averaged over recent layer steps): below kPrefetchMinPrecision the hints are only
// scored, not read. The cache takes a slot only when a guess's read is next, cancels (or
// stops part-way) the reads the routing does not name, and checks prefetched blobs at idle
// priority, so a wrong guess costs little: on issue 26's full-width model, reading every
// guess at 55-60 % precision went from 15 % slower than none (8 GiB) to faster in 7 of 9
// pairs at 8, 12 and 20 GiB (-8 % to +29 %; docs/benchmarks.md). The gate only stops
// guesses that are mostly wrong. Of a hint naming more than a quarter of the slots (a prompt
// chunk's union, or a small cache), only the best quarter is read.
#pragma once

#include <cstdint>
#include <vector>

#include "format/container_reader.h"
#include "offload/expert_cache.h"
#include "runtime/expert_provider.h"

namespace moestream {

inline constexpr double kPrefetchMinPrecision = 0.3;
inline constexpr int64_t kPrefetchLookahead = 3;  // DeepSeek-V3's dense layers before the first MoE

struct PrefetchRecall {
  uint64_t predicted = 0;  // experts named by pre-gating (for layers that then ran)
  uint64_t needed = 0;     // experts those layers actually used
  uint64_t correct = 0;    // needed and predicted
  uint64_t hints = 0;      // layer steps with a prediction
  uint64_t gated = 0;      // of those, scored only (precision too low)
  uint64_t truncated = 0;  // of those, read only in part (more named than a quarter of the slots)
  double precision() const { return predicted ? static_cast<double>(correct) / static_cast<double>(predicted) : 0.0; }
  double recall() const { return needed ? static_cast<double>(correct) / static_cast<double>(needed) : 0.0; }
};

class StreamingExpertProvider : public ExpertProvider {
 public:
  StreamingExpertProvider(const ContainerReader& reader, ExpertCache& cache);

  Result<AcquiredExpert> acquire(int64_t layer, int64_t expert) override;
  void release(const AcquiredExpert& expert) override;
  void prefetch(int64_t layer, std::span<const int64_t> experts) override;
  Status begin_batch(int64_t layer, std::span<const int64_t> experts) override;
  Result<AcquiredExpert> acquire_next_ready() override;
  void end_batch() override;
  DiskActivity disk_activity() const override;

  // Hints are read only while their measured precision is at least this (0: always).
  void set_prefetch_min_precision(double p) { min_precision_ = p; }
  double prefetch_min_precision() const { return min_precision_; }
  ExpertCache& cache() { return cache_; }
  PrefetchRecall recall() const { return recall_; }
  int64_t outstanding() const { return outstanding_; }

 private:
  Status top_up_window();
  Result<AcquiredExpert> make_acquired(int64_t layer, const ReadyExpert& ready);

  const ContainerReader& reader_;
  ExpertCache& cache_;
  int64_t window_limit_ = 1;  // experts a batch may pin at once

  int64_t batch_layer_ = -1;
  std::vector<int64_t> batch_pending_;  // not pinned yet
  std::vector<int64_t> batch_pinned_;   // pinned, not handed out yet
  std::vector<int64_t> batch_taken_;    // handed out, not released yet
  std::vector<int64_t> batch_next_;     // top_up_window's working list, kept between calls
  int64_t outstanding_ = 0;

  // Per layer, the last guess until that layer runs (indexed by layer, kept: no allocation per step).
  std::vector<std::vector<int64_t>> predicted_;
  std::vector<uint8_t> has_prediction_;
  PrefetchRecall recall_;
  double recent_precision_ = 1.0;  // moving average over layer steps; starts trusting
  double min_precision_ = kPrefetchMinPrecision;
};

}  // namespace moestream
