// Loads the simulator's input from a list of files: .mstrace files (detected by their
// magic) and routing CSVs, appended in order; all must describe the same model shape.
#pragma once

#include <string>
#include <vector>

#include "profiling/cachesim/routing_csv_reader.h"
#include "profiling/cachesim/routing_trace.h"
#include "profiling/trace/trace_format.h"
#include "platform/status.h"

namespace moestream::cachesim {

// Appends every record of an .mstrace file; a new (sequence) number starts a new sequence
// and a new (sequence, token) a new token.
Status append_mstrace(const std::string& path, RoutingTrace* trace);

Result<RoutingTrace> load_routing_traces(const std::vector<std::string>& paths,
                                         const RoutingCsvOptions& csv_options);

// Does the file start with the .mstrace magic?
bool looks_like_mstrace(const std::string& path);

}  // namespace moestream::cachesim
