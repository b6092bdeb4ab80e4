// What the expert cache did, per layer, and the report `run` and the demo print.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace moestream {

struct LayerCacheStats {
  uint64_t hits = 0;               // demand accesses found resident or already loading
  uint64_t misses = 0;             // demand accesses that had to start a read
  uint64_t prefetch_hits = 0;      // hits on an expert that a prefetch brought in
  uint64_t prefetches = 0;         // prefetch reads started
  uint64_t wasted_prefetches = 0;  // prefetched, then evicted (or failed) before any demand use
  uint64_t wasted_bytes = 0;
  uint64_t cancelled_prefetches = 0;  // guessed, then dropped unread or stopped part-way
  uint64_t bytes_read = 0;         // from the device, demand and prefetch
  uint64_t stall_ns = 0;           // time demand users waited for reads or for a free slot
  uint64_t load_failures = 0;

  LayerCacheStats& operator+=(const LayerCacheStats& o);
  uint64_t accesses() const { return hits + misses; }
};

// The sum over layers.
LayerCacheStats total_of(const std::vector<LayerCacheStats>& per_layer);

// Per-layer rows (layers without traffic are skipped) and a total line; `title` heads it.
std::string format_cache_report(const std::vector<LayerCacheStats>& per_layer, const std::string& title);

}  // namespace moestream
