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
  std::string kind = "lru";      // lru | lfu
  double lfu_half_life = 256;    // accesses after which an LFU count has halved
};

Result<std::unique_ptr<CachePolicy>> make_cache_policy(const CachePolicyOptions& options, int slots);

}  // namespace moestream
