// Turns what a profiled run does into .mstrace records (profiling/trace/): the router's choice
// with scores and next candidates (a RoutingObserver), the pre-gating guesses (an
// ExpertProvider that wraps the streaming one and notes each prefetch hint, with scores from
// the model's pre-gating observer), and what the expert cache did for each chosen expert (hit,
// prefetch hit, prefetch late, miss, and how long the layer waited for its read), from the
// cache's event listener.
//
// In a prefill batch an expert is pinned and loaded once for all the tokens that chose it:
// its outcome and wait go to the first of those tokens, the later ones count as hits (it was
// in RAM for them). So the trace's outcome counts equal the cache's own hit/miss counters.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <vector>

#include "offload/expert_cache.h"
#include "profiling/trace/trace_format.h"
#include "runtime/expert_provider.h"
#include "runtime/moe_layer.h"

namespace moestream {

// Score of a pre-gating entry when no guess was made for that step (its expert is 0).
inline constexpr float kNoPregateGuess = -std::numeric_limits<float>::infinity();

class ProfileRecorder {
 public:
  // `header` gives the record shape (top_k, num_candidates, num_pregate) and first_moe_layer.
  // `experts` is the provider the model would otherwise use.
  ProfileRecorder(ExpertProvider& experts, trace::TraceHeader header);
  ProfileRecorder(const ProfileRecorder&) = delete;
  ProfileRecorder& operator=(const ProfileRecorder&) = delete;

  ExpertProvider& provider() { return hint_provider_; }  // for Model::load
  RoutingObserver observer();                             // for Model::set_routing_observer
  ExpertCacheEventListener listener();                    // for ExpertCache::set_event_listener
  // For Model::set_pregate_observer: the scores of the guesses (without it they are NaN).
  std::function<void(int64_t, std::span<const int64_t>, std::span<const float>)> pregate_observer();

  // Before each Model::forward: the sequence (prompt number) and phase of its tokens.
  void begin_step(uint32_t sequence, trace::Phase phase);
  // After each Model::forward: its records, token-major (token t: layers 0..L-1, then t+1).
  std::vector<trace::TraceRecord> end_step();

 private:
  // The wrapped provider: forwards everything, remembers each layer's latest prefetch hint.
  class HintRecordingProvider : public ExpertProvider {
   public:
    HintRecordingProvider(ExpertProvider& inner, ProfileRecorder& owner) : inner_(inner), owner_(owner) {}
    Result<AcquiredExpert> acquire(int64_t layer, int64_t expert) override { return inner_.acquire(layer, expert); }
    void release(const AcquiredExpert& expert) override { inner_.release(expert); }
    void prefetch(int64_t layer, std::span<const int64_t> experts) override;
    Status begin_batch(int64_t layer, std::span<const int64_t> experts) override {
      return inner_.begin_batch(layer, experts);
    }
    Result<AcquiredExpert> acquire_next_ready() override { return inner_.acquire_next_ready(); }
    void end_batch() override { inner_.end_batch(); }
    DiskActivity disk_activity() const override { return inner_.disk_activity(); }

   private:
    ExpertProvider& inner_;
    ProfileRecorder& owner_;
  };

  // One MoE layer's batch of the current step: a record per token.
  struct Batch {
    int64_t layer = -1;  // model layer index
    std::vector<trace::TraceRecord> records;
    std::map<int64_t, std::pair<size_t, size_t>> first_user;  // expert -> (record, chosen slot)
    bool pinned = false;  // the cache has seen its demand: later routing is a new batch
  };

  void on_routing(int64_t layer, int64_t position, const RoutingDecision& decision);
  void on_event(const ExpertCacheEvent& event);
  void close_batch_locked();

  HintRecordingProvider hint_provider_;
  trace::TraceHeader header_;
  std::mutex mutex_;  // cache events arrive on the loader thread
  uint32_t sequence_ = 0;
  trace::Phase phase_ = trace::Phase::kPrefill;
  Batch batch_;
  std::map<int64_t, std::vector<int64_t>> hints_;         // per model layer, until it runs
  std::map<int64_t, std::map<int64_t, float>> hint_scores_;  // per model layer: expert -> score
  std::map<int64_t, std::set<int64_t>> prefetch_started_;  // per model layer, until it runs
  std::set<int64_t> batch_prefetched_;                     // of the open batch
  std::vector<trace::TraceRecord> done_;
};

}  // namespace moestream
