#include "profiling/cachesim/static_hot_set_policy.h"

#include <algorithm>
#include <numeric>

namespace moestream::cachesim {

std::vector<uint32_t> top_keys_by_count(const std::vector<uint64_t>& counts, uint32_t capacity) {
  std::vector<uint32_t> keys(counts.size());
  std::iota(keys.begin(), keys.end(), 0u);
  size_t n = std::min<size_t>(capacity, keys.size());
  std::partial_sort(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(n), keys.end(),
                    [&](uint32_t a, uint32_t b) {
                      return counts[a] != counts[b] ? counts[a] > counts[b] : a < b;
                    });
  keys.resize(n);
  return keys;
}

}  // namespace moestream::cachesim
