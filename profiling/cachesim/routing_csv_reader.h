// Reads routing CSVs in the layout of ../shared/expert-routing-traces (one file per prompt,
// header `Layer ID,Batch Number,Token,Activated Expert IDs`, rows grouped by layer, each
// row a quoted list like "[8, 26, 56, 57, 60, 43]"). Each file becomes one sequence; rows
// are transposed to token-major order. Errors name the file and the line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profiling/cachesim/routing_trace.h"
#include "platform/status.h"

namespace moestream::cachesim {

struct RoutingCsvOptions {
  uint32_t num_experts = 0;  // 0: infer as (largest id seen + 1)
};

// Appends each file as a new sequence of `trace`. An empty trace takes its shape from the
// first file; later files must agree (same layers, same k).
Status append_routing_csv(const std::string& path, const RoutingCsvOptions& options,
                          RoutingTrace* trace);

// Splits one CSV record into fields (RFC 4180 quoting: "a,b" and doubled "" quotes).
// `pos` advances past the record's line end. Returns false at the end of the text, and
// sets *error when a quote is not closed.
bool next_csv_record(const std::string& text, size_t* pos, std::vector<std::string>* fields,
                     std::string* error);

}  // namespace moestream::cachesim
