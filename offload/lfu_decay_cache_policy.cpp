#include "offload/lfu_decay_cache_policy.h"

#include <algorithm>
#include <cmath>

namespace moestream {

LfuDecayCachePolicy::LfuDecayCachePolicy(int slots, double half_life)
    : half_life_(half_life > 0 ? half_life : 1),
      log_score_(static_cast<size_t>(slots), 0),
      last_use_(static_cast<size_t>(slots), 0),
      live_(static_cast<size_t>(slots), false) {}

double LfuDecayCachePolicy::score(int slot) const {
  if (!live_[slot]) return 0;
  return std::exp2(log_score_[slot] - static_cast<double>(clock_) / half_life_);
}

void LfuDecayCachePolicy::reorder(int slot, double log_score) {
  if (live_[slot]) order_.erase({log_score_[slot], last_use_[slot], slot});
  log_score_[slot] = log_score;
  last_use_[slot] = clock_;
  live_[slot] = true;
  order_.insert({log_score_[slot], last_use_[slot], slot});
}

void LfuDecayCachePolicy::on_insert(int slot) {
  ++clock_;
  reorder(slot, static_cast<double>(clock_) / half_life_);  // a count of 1 now
}

void LfuDecayCachePolicy::on_access(int slot) {
  ++clock_;
  const double now = static_cast<double>(clock_) / half_life_;
  if (!live_[slot]) return reorder(slot, now);
  // Adding 1 now: log2(2^old + 2^now) = hi + log2(1 + 2^(lo - hi)).
  const double old = log_score_[slot];
  const double hi = std::max(old, now), lo = std::min(old, now);
  reorder(slot, hi + std::log2(1.0 + std::exp2(lo - hi)));
}

void LfuDecayCachePolicy::on_evict(int slot) {
  if (!live_[slot]) return;
  order_.erase({log_score_[slot], last_use_[slot], slot});
  live_[slot] = false;
}

int LfuDecayCachePolicy::choose_victim(const std::function<bool(int)>& evictable) const {
  for (const Entry& e : order_)
    if (evictable(std::get<2>(e))) return std::get<2>(e);
  return -1;
}

}  // namespace moestream
