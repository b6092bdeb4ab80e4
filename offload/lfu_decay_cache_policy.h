// Least frequently used with exponential decay: each access adds 1 to a slot's count, and
// counts halve every `half_life` accesses (to any slot), so yesterday's favourites fade.
// Ties go to the least recently used. Cumulative LFU loses to LRU on long multi-prompt
// streams (docs/profiling.md, worked example); decayed counts keep it fresh.
#pragma once

#include <vector>

#include "offload/cache_policy.h"

namespace moestream {

class LfuDecayCachePolicy : public CachePolicy {
 public:
  LfuDecayCachePolicy(int slots, double half_life);
  std::string name() const override { return "lfu"; }
  void on_insert(int slot) override;
  void on_access(int slot) override;
  void on_evict(int slot) override;
  int choose_victim(const std::function<bool(int)>& evictable) const override;

  // The decayed count of a slot now (tests).
  double score(int slot) const;

 private:
  double half_life_;
  uint64_t clock_ = 0;
  std::vector<double> count_;         // as of last_use_
  std::vector<uint64_t> last_use_;
};

}  // namespace moestream
