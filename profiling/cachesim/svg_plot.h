// `cachesim --svg`: hit rate against cache size, one line per policy, OPT drawn as a thick
// black dashed line, one panel per pool layout; axes with ticks and labels, and a legend.
#pragma once

#include <string>

#include "profiling/cachesim/sweep.h"

namespace moestream::cachesim {

std::string render_hit_rate_svg(const SweepResult& result);

}  // namespace moestream::cachesim
