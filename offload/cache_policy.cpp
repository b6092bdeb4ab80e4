#include "offload/cache_policy.h"

#include <algorithm>

#include "offload/lfu_decay_cache_policy.h"
#include "offload/lru_cache_policy.h"

namespace moestream {

Result<std::unique_ptr<CachePolicy>> make_cache_policy(const CachePolicyOptions& options, int slots,
                                                       double accesses_per_token) {
  if (options.kind == "lru") return std::unique_ptr<CachePolicy>(new LruCachePolicy(slots));
  if (options.kind == "lfu") {
    if (!(options.lfu_half_life_tokens > 0)) return invalid_argument("--lfu-half-life must be positive");
    const double half_life = options.lfu_half_life_tokens * std::max(1.0, accesses_per_token);
    return std::unique_ptr<CachePolicy>(new LfuDecayCachePolicy(slots, half_life));
  }
  return invalid_argument("--cache-policy must be lru or lfu, not '" + options.kind + "'");
}

}  // namespace moestream
