// Which cached expert to evict. A policy sees slot indices only: inserts, accesses and
// evictions, and picks a victim among the slots the cache says may go (not pinned, not
// loading, not in the hot set).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "platform/status.h"

namespace moestream {

// Not thread-safe: the owner (ExpertCache) calls it only under its own lock.
class CachePolicy {
 public:
  virtual ~CachePolicy() = default;
  virtual std::string name() const = 0;
  virtual void on_insert(int slot) = 0;  // a new expert now lives in `slot`
  virtual void on_access(int slot) = 0;  // a demand hit (or a prefetch naming a resident expert)
  virtual void on_evict(int slot) = 0;
  // -1 when no slot is evictable.
  virtual int choose_victim(const std::function<bool(int)>& evictable) const = 0;
};

struct CachePolicyOptions {
  std::string kind = "lru";          // lru | lfu
  double lfu_half_life_tokens = 32;  // tokens after which an LFU count has halved
};

// The policy's clock is its own accesses (inserts and hits); `accesses_per_token` turns the
// half-life in tokens into accesses: k x MoE layers for the runtime's one pool, k for one
// layer's cache in the simulator. The runtime and the simulator both build policies here.
Result<std::unique_ptr<CachePolicy>> make_cache_policy(const CachePolicyOptions& options, int slots,
                                                       double accesses_per_token);

}  // namespace moestream
