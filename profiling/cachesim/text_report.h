// The human-readable cachesim report: what was replayed, one table per metric with a row
// per cache size and a column per policy, the prefetch table, notes on what was skipped,
// and what each number means.
#pragma once

#include <string>

#include "profiling/cachesim/sweep.h"

namespace moestream::cachesim {

struct TextReportOptions {
  bool per_layer = false;  // add a per-layer hit-rate table (first policy, per-layer caches)
};

std::string format_text_report(const SweepResult& result, const TextReportOptions& options = {});

}  // namespace moestream::cachesim
