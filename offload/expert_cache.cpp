#include "offload/expert_cache.h"

#include <algorithm>
#include <limits>

#include "platform/clock.h"

namespace moestream {

namespace {

std::string key_name(const ExpertKey& k) {
  return "layer " + std::to_string(k.layer) + " expert " + std::to_string(k.expert);
}

}  // namespace

uint64_t ExpertCache::slot_bytes(const ContainerReader& reader) {
  uint64_t bytes = 0;
  for (int64_t layer : reader.expert_layers()) {
    for (int64_t e = 0; e < reader.config().n_routed_experts; ++e) {
      auto b = reader.expert_blob(layer, e);
      if (!b.ok()) break;
      bytes = std::max(bytes, b->raw_size);
      if (b->compression == BlobCompression::kNone) bytes = std::max(bytes, b->padded_size);
    }
  }
  return align_up(bytes, kPageSize);
}

uint64_t ExpertCache::staging_bytes(const ContainerReader& reader) {
  uint64_t bytes = 0;
  for (int64_t layer : reader.expert_layers()) {
    for (int64_t e = 0; e < reader.config().n_routed_experts; ++e) {
      auto b = reader.expert_blob(layer, e);
      if (!b.ok()) break;
      if (b->compression != BlobCompression::kNone) bytes = std::max(bytes, b->padded_size);
    }
  }
  return bytes;
}

Result<std::unique_ptr<ExpertCache>> ExpertCache::create(const ContainerReader& reader,
                                                         const ExpertCacheOptions& options,
                                                         std::unique_ptr<ReadBackend> backend) {
  if (options.slots < 1) return invalid_argument("the expert cache needs at least one slot");
  std::unique_ptr<ExpertCache> cache(new ExpertCache());
  cache->reader_ = &reader;
  cache->slot_bytes_ = slot_bytes(reader);
  const auto slots = static_cast<size_t>(options.slots);
  MOESTREAM_ASSIGN_OR_RETURN(cache->pool_, AlignedBuffer::allocate(cache->slot_bytes_ * slots, kPageSize,
                                                                   options.huge_pages));
  cache->slots_.resize(slots);
  cache->blob_bytes_.assign(slots, 0);
  std::vector<iovec> buffers;
  for (size_t s = 0; s < slots; ++s) {
    cache->slots_[s].data = cache->pool_.data() + s * cache->slot_bytes_;
    buffers.push_back({cache->slots_[s].data, cache->slot_bytes_});
  }
  for (size_t s = slots; s-- > 0;) cache->free_.push_back(static_cast<int>(s));
  // The policy's clock ticks once per expert access: k per MoE layer per token.
  const ModelConfig& config = reader.config();
  const double accesses_per_token =
      static_cast<double>(config.num_experts_per_tok) * static_cast<double>(reader.expert_layers().size());
  MOESTREAM_ASSIGN_OR_RETURN(cache->policy_,
                             make_cache_policy(options.policy, static_cast<int>(slots), accesses_per_token));
  cache->policy_name_ = cache->policy_->name();
  cache->stats_.resize(static_cast<size_t>(std::max<int64_t>(1, reader.config().total_layers())));
  ExpertLoaderOptions loader_options = options.loader;
  loader_options.staging_buffer_size = staging_bytes(reader);
  ExpertCache* self = cache.get();
  MOESTREAM_ASSIGN_OR_RETURN(
      cache->loader_,
      ExpertLoader::create(reader.path(), loader_options, buffers,
                           [self](uint64_t slot, const Status& status) { self->on_loaded(slot, status); },
                           std::move(backend)));

  // The hot set: loaded now, kept for good.
  if (!options.hot_set.empty()) {
    std::vector<LoadJob> jobs;
    {
      std::lock_guard<std::mutex> lock(cache->mutex_);
      for (const ExpertKey& k : options.hot_set) {
        if (cache->index_.count(k)) continue;
        MOESTREAM_ASSIGN_OR_RETURN(ExpertBlobInfo blob, reader.expert_blob(k.layer, k.expert));
        (void)blob;
        const int s = cache->take_slot_locked();
        if (s < 0) return internal_error("hot set larger than the cache");
        Slot& slot = cache->slots_[s];
        slot.key = k;
        slot.state = SlotState::kLoading;
        slot.permanent = true;
        cache->index_[k] = s;
        cache->policy_->on_insert(s);
        jobs.push_back(cache->job_for_locked(s, /*urgent=*/true));
        ++cache->hot_set_size_;
      }
    }
    cache->loader_->submit(std::move(jobs));
    cache->loader_->drain();
    std::lock_guard<std::mutex> lock(cache->mutex_);
    for (const Slot& slot : cache->slots_) {
      if (slot.permanent && slot.state != SlotState::kReady) {
        return slot.error.with_context("loading the pinned hot set");
      }
    }
  }
  return cache;
}

ExpertCache::~ExpertCache() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing_ = true;  // completions during the wait below start no new prefetch
    prefetch_waiting_.clear();
  }
  loader_.reset();  // waits for reads into the pool to finish
}

LayerCacheStats& ExpertCache::stats_locked(int64_t layer) {
  // Never resized: callers hold references across calls.
  if (layer < 0 || static_cast<size_t>(layer) >= stats_.size()) return unknown_layer_stats_;
  return stats_[static_cast<size_t>(layer)];
}

void ExpertCache::set_event_listener(ExpertCacheEventListener listener) {
  std::lock_guard<std::mutex> lock(mutex_);
  listener_ = std::move(listener);
}

void ExpertCache::emit_locked(ExpertCacheEvent::Kind kind, const ExpertKey& key, uint64_t bytes) const {
  ExpertCacheEvent event;
  event.kind = kind;
  event.layer = key.layer;
  event.expert = key.expert;
  event.bytes = bytes;
  listener_(event);
}

LoadJob ExpertCache::job_for_locked(int slot, bool urgent) const {
  LoadJob job;
  job.id = static_cast<uint64_t>(slot);
  // The key was validated by the caller (expert_blob succeeded before the slot was taken).
  job.blob = reader_->expert_blob(slots_[slot].key.layer, slots_[slot].key.expert).value();
  job.destination = slots_[slot].data;
  job.destination_buffer = slot;
  job.urgent = urgent;
  return job;
}

int ExpertCache::take_slot_locked() {
  if (!free_.empty()) {
    const int s = free_.back();
    free_.pop_back();
    return s;
  }
  const int victim = policy_->choose_victim([this](int s) {
    const Slot& slot = slots_[s];
    return slot.state == SlotState::kReady && slot.pins == 0 && !slot.permanent;
  });
  if (victim < 0) return -1;
  Slot& slot = slots_[victim];
  if (slot.prefetched_unused) {
    LayerCacheStats& st = stats_locked(slot.key.layer);
    ++st.wasted_prefetches;
    st.wasted_bytes += blob_bytes_[victim];
    if (listener_) emit_locked(ExpertCacheEvent::Kind::kPrefetchWasted, slot.key, blob_bytes_[victim]);
  }
  index_.erase(slot.key);
  policy_->on_evict(victim);
  reset_slot(slot);
  return victim;
}

void ExpertCache::reset_slot(Slot& slot) {
  uint8_t* data = slot.data;
  slot = Slot();
  slot.data = data;
}

void ExpertCache::free_slot_locked(int s) {
  Slot& slot = slots_[s];
  index_.erase(slot.key);
  policy_->on_evict(s);
  reset_slot(slot);
  free_.push_back(s);
}

Status ExpertCache::pin(int64_t layer, std::span<const int64_t> experts) {
  std::vector<LoadJob> jobs;
  std::vector<int64_t> missing;
  std::unique_lock<std::mutex> lock(mutex_);
  LayerCacheStats& st = stats_locked(layer);
  // Hits first, so that a miss never evicts an expert this same call wants.
  for (int64_t e : experts) {
    auto it = index_.find({layer, e});
    if (it == index_.end()) {
      missing.push_back(e);
      continue;
    }
    Slot& slot = slots_[it->second];
    if (slot.state == SlotState::kFailed && slot.pins == 0) {  // a failed prefetch: try again
      free_slot_locked(it->second);
      missing.push_back(e);
      continue;
    }
    ++slot.pins;
    ++st.hits;
    if (slot.state == SlotState::kLoading && slot.prefetched_unused) loader_->promote(static_cast<uint64_t>(it->second));
    if (listener_) {
      using Kind = ExpertCacheEvent::Kind;
      const bool loading = slot.state == SlotState::kLoading;
      if (loading && slot.demanded_ns == 0) slot.demanded_ns = now_ns();
      emit_locked(!slot.prefetched_unused ? Kind::kHit : loading ? Kind::kPrefetchLate : Kind::kPrefetchHit,
                  slot.key, 0);
    }
    if (slot.prefetched_unused) {
      ++st.prefetch_hits;
      slot.prefetched_unused = false;
    }
    policy_->on_access(it->second);
  }
  Status status;
  for (int64_t e : missing) {
    auto blob = reader_->expert_blob(layer, e);
    if (!blob.ok()) {
      status = blob.status();
      break;
    }
    int s = take_slot_locked();
    while (s < 0) {
      // Prefetches in flight hold slots; they free up as their reads land.
      const bool loading = std::any_of(slots_.begin(), slots_.end(), [](const Slot& x) {
        return x.state == SlotState::kLoading && x.pins == 0 && !x.permanent;
      });
      if (!loading) {
        status = out_of_memory("expert cache: all " + std::to_string(slots_.size()) +
                               " slots are pinned while loading layer " + std::to_string(layer) +
                               " expert " + std::to_string(e) + "; raise --ram-budget");
        break;
      }
      loader_->submit(std::move(jobs));
      jobs.clear();
      const uint64_t t0 = now_ns();
      cv_.wait(lock);
      st.stall_ns += now_ns() - t0;
      s = take_slot_locked();
    }
    if (!status.ok()) break;
    Slot& slot = slots_[s];
    slot.key = {layer, e};
    slot.state = SlotState::kLoading;
    slot.pins = 1;
    index_[slot.key] = s;
    blob_bytes_[s] = blob->padded_size;
    policy_->on_insert(s);
    ++st.misses;
    if (listener_) {
      slot.load_started_ns = slot.demanded_ns = now_ns();
      emit_locked(ExpertCacheEvent::Kind::kMiss, slot.key, blob_bytes_[s]);
    }
    jobs.push_back(job_for_locked(s, /*urgent=*/true));
  }
  lock.unlock();
  loader_->submit(std::move(jobs));
  return status;
}

Result<ReadyExpert> ExpertCache::wait_any(int64_t layer, std::span<const int64_t> experts) {
  std::unique_lock<std::mutex> lock(mutex_);
  uint64_t waited_since = 0;
  for (;;) {
    for (int64_t e : experts) {
      auto it = index_.find({layer, e});
      if (it == index_.end() || slots_[it->second].pins == 0) {
        return internal_error("expert cache: " + key_name({layer, e}) + " was not pinned before waiting");
      }
      const Slot& slot = slots_[it->second];
      if (slot.state == SlotState::kLoading) continue;
      if (waited_since) stats_locked(layer).stall_ns += now_ns() - waited_since;
      if (slot.state == SlotState::kFailed) return slot.error;
      return ReadyExpert{e, slot.data, it->second};
    }
    if (!waited_since) waited_since = now_ns();
    cv_.wait(lock);
  }
}

void ExpertCache::unpin(int64_t layer, int64_t expert) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find({layer, expert});
  if (it == index_.end()) return;
  Slot& slot = slots_[it->second];
  if (slot.pins > 0) --slot.pins;
  if (slot.pins == 0 && slot.state == SlotState::kFailed) free_slot_locked(it->second);
  cv_.notify_all();  // a slot may have become evictable
}

void ExpertCache::prefetch(int64_t layer, std::span<const int64_t> experts) {
  std::vector<LoadJob> jobs;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int64_t e : experts) {
      auto it = index_.find({layer, e});
      if (it != index_.end()) {
        // Already here or coming: keep it from being the next victim.
        if (slots_[it->second].state == SlotState::kReady) policy_->on_access(it->second);
        continue;
      }
      if (std::find(prefetch_waiting_.begin(), prefetch_waiting_.end(), ExpertKey{layer, e}) == prefetch_waiting_.end()) {
        prefetch_waiting_.push_back({layer, e});
      }
    }
    start_prefetches_locked(&jobs);
  }
  loader_->submit(std::move(jobs));
}

void ExpertCache::start_prefetches_locked(std::vector<LoadJob>* jobs) {
  // A slot is taken (and its expert evicted) only when the read is next in line, so guesses
  // that are cancelled while they wait cost nothing.
  while (prefetch_jobs_ < kPrefetchJobsAhead && !prefetch_waiting_.empty() && !closing_) {
    const ExpertKey key = prefetch_waiting_.front();
    prefetch_waiting_.pop_front();
    if (index_.count(key) != 0) continue;  // demanded (or read) since it was guessed
    auto blob = reader_->expert_blob(key.layer, key.expert);
    if (!blob.ok()) continue;  // a bad prediction is not an error
    const int s = take_slot_locked();
    if (s < 0) {
      prefetch_waiting_.clear();  // every slot is in use: give up quietly
      return;
    }
    Slot& slot = slots_[s];
    slot.key = key;
    slot.state = SlotState::kLoading;
    slot.prefetched_unused = true;
    slot.prefetch_job = true;
    index_[slot.key] = s;
    blob_bytes_[s] = blob->padded_size;
    policy_->on_insert(s);
    ++stats_locked(key.layer).prefetches;
    ++prefetch_jobs_;
    if (listener_) {
      slot.load_started_ns = now_ns();
      emit_locked(ExpertCacheEvent::Kind::kPrefetchStart, slot.key, blob_bytes_[s]);
    }
    jobs->push_back(job_for_locked(s, /*urgent=*/false));
  }
}

int64_t ExpertCache::cancel_prefetches(int64_t layer, std::span<const int64_t> keep) {
  std::vector<LoadJob> jobs;
  std::lock_guard<std::mutex> lock(mutex_);
  // Guesses still waiting for their turn: all of the layer's go (those in `keep` are being
  // demanded now, or come back with the newer guess).
  const auto waiting_dropped =
      static_cast<int64_t>(std::erase_if(prefetch_waiting_, [&](const ExpertKey& k) { return k.layer == layer; }));
  std::vector<int> dropped;
  int64_t stopping = 0;
  for (auto it = index_.lower_bound({layer, std::numeric_limits<int64_t>::min()});
       it != index_.end() && it->first.layer == layer; ++it) {
    Slot& slot = slots_[it->second];
    if (slot.state != SlotState::kLoading || !slot.prefetched_unused || slot.pins > 0 || slot.stopping) continue;
    if (std::find(keep.begin(), keep.end(), it->first.expert) != keep.end()) continue;
    switch (loader_->cancel(static_cast<uint64_t>(it->second))) {
      case ExpertLoader::CancelResult::kDropped: dropped.push_back(it->second); break;
      case ExpertLoader::CancelResult::kStopping:
        slot.stopping = true;  // on_loaded frees it (or keeps it, had its read finished first)
        ++stopping;
        break;
      case ExpertLoader::CancelResult::kNone: break;
    }
  }
  for (int s : dropped) {
    --prefetch_jobs_;  // it will not call back
    drop_prefetch_locked(s);
  }
  stats_locked(layer).cancelled_prefetches += static_cast<uint64_t>(waiting_dropped);
  if (!dropped.empty()) {
    cv_.notify_all();  // a demand user may be waiting for a free slot
    start_prefetches_locked(&jobs);  // other layers' guesses move up
    loader_->submit(std::move(jobs));
  }
  return static_cast<int64_t>(dropped.size()) + stopping + waiting_dropped;
}

void ExpertCache::on_loaded(uint64_t slot_id, const Status& status) {
  std::vector<LoadJob> jobs;
  ExpertLoader* loader = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const int s = static_cast<int>(slot_id);
    Slot& slot = slots_[s];
    const bool was_prefetch_job = slot.prefetch_job;
    if (was_prefetch_job) {
      slot.prefetch_job = false;
      --prefetch_jobs_;
    }
    // The next guess in line takes the slot a stopped read frees; a read that finished stays
    // loading (not evictable) until the next guess has its slot.
    if (status.code() == ErrorCode::kCancelled) {
      stopped_locked(s, &jobs);
      if (was_prefetch_job) start_prefetches_locked(&jobs);
    } else {
      if (was_prefetch_job) start_prefetches_locked(&jobs);
      loaded_locked(s, status);
    }
    // Once the cache closes, loader_ is being destroyed (the member is null already): no new
    // reads. The loader itself outlives this call, which runs on one of its workers.
    if (!closing_) loader = loader_.get();
  }
  cv_.notify_all();
  if (loader != nullptr && !jobs.empty()) loader->submit(std::move(jobs));
}

void ExpertCache::stopped_locked(int s, std::vector<LoadJob>* jobs) {
  Slot& slot = slots_[s];
  slot.stopping = false;
  if (slot.pins > 0) {
    // Demanded while it was being stopped: read it whole, as a demand read.
    slot.prefetched_unused = false;
    jobs->push_back(job_for_locked(s, /*urgent=*/true));
    return;
  }
  drop_prefetch_locked(s);
}

void ExpertCache::drop_prefetch_locked(int s) {
  LayerCacheStats& st = stats_locked(slots_[s].key.layer);
  --st.prefetches;  // counted when its job was made; none of it is used
  ++st.cancelled_prefetches;
  if (listener_) emit_locked(ExpertCacheEvent::Kind::kPrefetchCancelled, slots_[s].key, 0);
  free_slot_locked(s);
}

void ExpertCache::loaded_locked(int s, const Status& status) {
  Slot& slot = slots_[s];
  slot.stopping = false;  // it finished before the stop reached it
  LayerCacheStats& st = stats_locked(slot.key.layer);
  if (listener_) {
    ExpertCacheEvent event;
    event.kind = ExpertCacheEvent::Kind::kLoaded;
    event.layer = slot.key.layer;
    event.expert = slot.key.expert;
    event.bytes = blob_bytes_[s];
    event.demanded = slot.demanded_ns != 0;
    const uint64_t since = event.demanded ? slot.demanded_ns : slot.load_started_ns;
    event.latency_ns = since ? now_ns() - since : 0;
    event.ok = status.ok();
    listener_(event);
    if (!status.ok() && slot.prefetched_unused) {
      emit_locked(ExpertCacheEvent::Kind::kPrefetchWasted, slot.key, blob_bytes_[s]);
    }
  }
  if (status.ok()) {
    slot.state = SlotState::kReady;
    st.bytes_read += blob_bytes_[s];
  } else {
    slot.state = SlotState::kFailed;
    slot.error = status;
    ++st.load_failures;
    if (slot.prefetched_unused) ++st.wasted_prefetches;
    if (slot.pins == 0 && !slot.permanent) free_slot_locked(s);
  }
}

bool ExpertCache::resident(int64_t layer, int64_t expert) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find({layer, expert});
  return it != index_.end() && slots_[it->second].state == SlotState::kReady;
}

std::vector<LayerCacheStats> ExpertCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace moestream
