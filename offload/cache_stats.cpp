#include "offload/cache_stats.h"

#include <cstdio>

namespace moestream {

LayerCacheStats& LayerCacheStats::operator+=(const LayerCacheStats& o) {
  hits += o.hits;
  misses += o.misses;
  prefetch_hits += o.prefetch_hits;
  prefetches += o.prefetches;
  wasted_prefetches += o.wasted_prefetches;
  cancelled_prefetches += o.cancelled_prefetches;
  wasted_bytes += o.wasted_bytes;
  bytes_read += o.bytes_read;
  stall_ns += o.stall_ns;
  load_failures += o.load_failures;
  return *this;
}

LayerCacheStats total_of(const std::vector<LayerCacheStats>& per_layer) {
  LayerCacheStats total;
  for (const LayerCacheStats& s : per_layer) total += s;
  return total;
}

namespace {

std::string row(const std::string& label, const LayerCacheStats& s) {
  char line[256];
  const double hit_rate = s.accesses() ? 100.0 * static_cast<double>(s.hits) / static_cast<double>(s.accesses()) : 0;
  std::snprintf(line, sizeof(line), "%-7s %8llu %8llu %6.1f%% %9llu %9llu %8llu %10.1f %9.1f\n", label.c_str(),
                static_cast<unsigned long long>(s.hits), static_cast<unsigned long long>(s.misses), hit_rate,
                static_cast<unsigned long long>(s.prefetch_hits), static_cast<unsigned long long>(s.prefetches),
                static_cast<unsigned long long>(s.wasted_prefetches), static_cast<double>(s.bytes_read) / 1e6,
                static_cast<double>(s.stall_ns) / 1e6);
  return line;
}

}  // namespace

std::string format_cache_report(const std::vector<LayerCacheStats>& per_layer, const std::string& title) {
  std::string out = title + "\n";
  out += "layer       hits   misses    hit  pf-hits  pf-reads  pf-waste    read MB  stall ms\n";
  for (size_t l = 0; l < per_layer.size(); ++l) {
    const LayerCacheStats& s = per_layer[l];
    if (s.accesses() == 0 && s.prefetches == 0) continue;
    out += row(std::to_string(l), s);
  }
  const LayerCacheStats total = total_of(per_layer);  // the skipped layers add nothing
  out += row("total", total);
  if (total.load_failures) out += "load failures: " + std::to_string(total.load_failures) + "\n";
  return out;
}

}  // namespace moestream
