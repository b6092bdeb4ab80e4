// The RAM tier of routed experts: a fixed pool of equal slots, each holding one expert's raw
// blob, filled by the ExpertLoader. Demand users pin experts (all misses of a layer go to the
// loader as one batch), wait for any of them to be ready, use the bytes, unpin. Prefetches
// load experts nobody has pinned yet. A slot that is pinned or still loading is never
// evicted; the policy (LRU or decayed LFU) picks among the others, and a hot set loaded from
// a profile stays for good. Per-layer statistics say what it cost.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "format/container_reader.h"
#include "offload/cache_policy.h"
#include "offload/cache_stats.h"
#include "offload/expert_loader.h"
#include "platform/aligned_buffer.h"

namespace moestream {

struct ExpertKey {
  int64_t layer = -1;
  int64_t expert = -1;
  auto operator<=>(const ExpertKey&) const = default;
};

struct ExpertCacheOptions {
  int64_t slots = 0;
  CachePolicyOptions policy;
  std::vector<ExpertKey> hot_set;  // loaded at start and never evicted
  ExpertLoaderOptions loader;
  bool huge_pages = true;
};

struct ReadyExpert {
  int64_t expert = -1;
  const uint8_t* data = nullptr;  // the raw blob, valid while pinned
  int slot = -1;
};

// One thing the cache did, for profilers (ExpertCache::set_event_listener). The demand kinds
// split the `hits` of LayerCacheStats into kHit + kPrefetchHit + kPrefetchLate; kMiss is
// `misses`.
struct ExpertCacheEvent {
  enum class Kind : uint8_t {
    kHit,             // demand: resident (or already loading for another demand user)
    kPrefetchHit,     // demand: brought in by a prefetch, read complete
    kPrefetchLate,    // demand: brought in by a prefetch, read still in flight
    kMiss,            // demand: not resident, a read was started
    kPrefetchStart,   // prefetch: a read was started
    kPrefetchWasted,  // a prefetched expert was evicted (or its read failed) before any demand use
    kPrefetchCancelled,  // a prefetch was dropped before its read started, or stopped part-way
    kLoaded,          // a read completed (ok or failed)
  };
  Kind kind = Kind::kHit;
  int64_t layer = -1;
  int64_t expert = -1;
  // kLoaded: from the first demand for the expert to the read's completion when a demand user
  // waited for it (`demanded`), else from the read's start.
  uint64_t latency_ns = 0;
  uint64_t bytes = 0;      // kMiss, kPrefetchStart, kPrefetchWasted, kLoaded: bytes of the read
  bool demanded = false;   // kLoaded: a demand user was waiting for this read
  bool ok = true;          // kLoaded: false when the read failed
};
using ExpertCacheEventListener = std::function<void(const ExpertCacheEvent&)>;

// Owns the slot pool and the ExpertLoader; the caller keeps `reader` alive for the cache's
// lifetime. Thread-safe: pin, wait_any, unpin, prefetch, resident and stats take mutex_ and
// may be called from any thread; completions arrive on loader threads. Pins are counted per
// slot, so each pin() of an expert needs one unpin(). A ReadyExpert's data stays valid until
// the matching unpin(); a pinned or loading slot is never evicted, after unpin it may be.
class ExpertCache {
 public:
  // `backend` replaces the default read path (tests inject faults).
  static Result<std::unique_ptr<ExpertCache>> create(const ContainerReader& reader,
                                                     const ExpertCacheOptions& options,
                                                     std::unique_ptr<ReadBackend> backend = nullptr);
  ~ExpertCache();
  ExpertCache(const ExpertCache&) = delete;
  ExpertCache& operator=(const ExpertCache&) = delete;

  // Bytes one slot needs for this container (the largest raw or padded blob, page-rounded),
  // and the staging buffer size for its compressed blobs (0 if none).
  static uint64_t slot_bytes(const ContainerReader& reader);
  static uint64_t staging_bytes(const ContainerReader& reader);

  // Demand: pins each (distinct) expert of `layer`; the misses are loaded in one batch.
  // Waits for a slot only while prefetches hold them; fails if every slot is pinned.
  Status pin(int64_t layer, std::span<const int64_t> experts);
  // Waits until one of `experts` (pinned by the caller) is ready and returns it; a failed
  // load returns its error (naming layer, expert and file).
  Result<ReadyExpert> wait_any(int64_t layer, std::span<const int64_t> experts);
  void unpin(int64_t layer, int64_t expert);
  // Loads experts that are not resident into slots nobody needs now; never waits.
  void prefetch(int64_t layer, std::span<const int64_t> experts);
  // Cancels the prefetches of `layer` whose expert is not in `keep` (the layer's real routing,
  // or a newer guess): guesses still waiting and reads not started are dropped (their slots
  // come free now), started reads stop after the requests in flight (freed when they land),
  // so the disk time goes to reads that are needed. Returns how many were cancelled.
  int64_t cancel_prefetches(int64_t layer, std::span<const int64_t> keep);

  bool resident(int64_t layer, int64_t expert) const;
  int64_t slot_count() const { return static_cast<int64_t>(slots_.size()); }
  int64_t hot_set_size() const { return hot_set_size_; }
  uint64_t pool_bytes() const { return pool_.size(); }
  bool huge_pages() const { return pool_.huge_pages(); }
  const ExpertLoader& loader() const { return *loader_; }
  const std::string& policy_name() const { return policy_name_; }
  std::vector<LayerCacheStats> stats() const;  // indexed by layer

  // Every event from now on goes to `listener` (empty: none; the default costs nothing). It is
  // called with the cache's lock held, on the demand user's or the loader's thread, so it must
  // be quick and must not call back into the cache.
  void set_event_listener(ExpertCacheEventListener listener);

 private:
  enum class SlotState { kFree, kLoading, kReady, kFailed };
  struct Slot {
    uint8_t* data = nullptr;
    ExpertKey key;
    SlotState state = SlotState::kFree;
    int pins = 0;
    bool permanent = false;        // hot set
    bool prefetched_unused = false;  // loaded by prefetch, no demand use yet
    bool prefetch_job = false;       // its read was started as a prefetch and has not called back
    bool stopping = false;           // its prefetch read was cancelled after it started
    uint64_t load_started_ns = 0;    // only kept while an event listener is set
    uint64_t demanded_ns = 0;        // first demand while loading (listener only)
    Status error;
  };

  ExpertCache() = default;
  void on_loaded(uint64_t slot, const Status& status);
  // on_loaded's two outcomes: a prefetch stopped part-way (freed, or re-read whole if demanded
  // meanwhile), or a read that finished (ready, or failed).
  void stopped_locked(int slot, std::vector<LoadJob>* jobs);
  void loaded_locked(int slot, const Status& status);
  // A cancelled prefetch's slot comes free; it counts as cancelled, not as a prefetch read.
  void drop_prefetch_locked(int slot);
  // A slot for a new expert, evicting if needed; -1 if none can be had now.
  int take_slot_locked();
  void free_slot_locked(int slot);
  static void reset_slot(Slot& slot);
  LoadJob job_for_locked(int slot, bool urgent) const;
  // Makes jobs for waiting guesses while fewer than kPrefetchJobsAhead prefetch reads are out.
  void start_prefetches_locked(std::vector<LoadJob>* jobs);
  // The loader reads at most two prefetch requests at a time: two jobs keep it busy.
  static constexpr int kPrefetchJobsAhead = 2;
  LayerCacheStats& stats_locked(int64_t layer);
  void emit_locked(ExpertCacheEvent::Kind kind, const ExpertKey& key, uint64_t bytes) const;

  const ContainerReader* reader_ = nullptr;
  AlignedBuffer pool_;
  uint64_t slot_bytes_ = 0;
  std::string policy_name_;
  int64_t hot_set_size_ = 0;
  std::unique_ptr<ExpertLoader> loader_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Slot> slots_;
  std::vector<int> free_;
  std::map<ExpertKey, int> index_;
  std::deque<ExpertKey> prefetch_waiting_;  // guesses in order, no slot yet
  int prefetch_jobs_ = 0;                   // prefetch reads submitted, not yet called back
  bool closing_ = false;
  std::unique_ptr<CachePolicy> policy_;
  std::vector<LayerCacheStats> stats_;
  LayerCacheStats unknown_layer_stats_;  // requests for layers that do not exist
  std::vector<uint64_t> blob_bytes_;  // per slot: bytes its current load reads
  ExpertCacheEventListener listener_;
};

}  // namespace moestream
