// `--csv` export of a .mstrace: one line per (token, layer) record, lists as
// space-separated values inside one field, so any CSV reader (pandas, awk -F,) takes it.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "profiling/trace/trace_reader.h"
#include "platform/status.h"

namespace moestream::trace {

// The header line written first (documented in docs/trace-format.md).
std::string_view trace_csv_columns();
// Formats one record as a CSV line (with the trailing newline).
std::string format_trace_csv_line(const TraceRecord& record);
// Writes the column line and then every record of `reader` to `sink`.
Status export_trace_csv(TraceReader& reader,
                        const std::function<Status(std::string_view)>& sink);

}  // namespace moestream::trace
