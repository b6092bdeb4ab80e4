// Least frequently used with exponential decay: each access adds 1 to a slot's count, and
// counts halve every `half_life` accesses (to any slot), so yesterday's favourites fade.
// Ties go to the least recently used. Cumulative LFU loses to LRU on long multi-prompt
// streams (docs/profiling.md, worked example); decayed counts keep it fresh. The
// simulator (profiling/cachesim) replays this same class.
#pragma once

#include <cstdint>
#include <set>
#include <tuple>
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
  void reorder(int slot, double log_score);

  // Scores live in the log2 domain, log2(count at last use) + last use / half-life, so the
  // order of two slots never changes while neither is touched and nothing overflows; the
  // ordered set makes the victim the first evictable entry, not a scan of every slot.
  using Entry = std::tuple<double, uint64_t, int>;  // log score, last use, slot
  double half_life_;
  uint64_t clock_ = 0;
  std::vector<double> log_score_;
  std::vector<uint64_t> last_use_;
  std::vector<bool> live_;
  std::set<Entry> order_;
};

}  // namespace moestream
