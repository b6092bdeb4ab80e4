// `cachesim --json`: every run with raw counts and derived rates, plus the trace summary
// and the notes, so scripts never have to parse the text tables.
#pragma once

#include <string>

#include "profiling/cachesim/sweep.h"

namespace moestream::cachesim {

std::string format_json_report(const SweepResult& result);

}  // namespace moestream::cachesim
