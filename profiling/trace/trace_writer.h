// Streams TraceRecords into a .mstrace file: records are packed into chunks, each chunk is
// one zstd frame, and finish() writes the end marker and renames PATH.partial to PATH, so
// an interrupted run never leaves a file that looks complete.
#pragma once

#include <cstdint>
#include <string>

#include "profiling/trace/trace_format.h"
#include "platform/file.h"
#include "platform/status.h"

namespace moestream::trace {

struct TraceWriterOptions {
  uint32_t records_per_chunk = 4096;  // bounds memory and what a truncation can lose
  int zstd_level = 3;
};

class TraceWriter {
 public:
  static Result<TraceWriter> create(const std::string& path, const TraceHeader& header,
                                    TraceWriterOptions options = {});

  // Validates the record against the header; an invalid record is kInvalidArgument and
  // nothing is written.
  Status append(const TraceRecord& record);
  // Flushes the last chunk, writes the end marker, fsyncs and renames into place.
  Status finish();

  uint64_t records_written() const { return records_written_; }
  const TraceHeader& header() const { return header_; }

 private:
  Status flush_chunk();

  AtomicFileWriter file_;
  TraceHeader header_;
  TraceWriterOptions options_;
  std::string chunk_;           // uncompressed records of the open chunk
  std::string compressed_;      // reused output buffer
  uint32_t chunk_records_ = 0;
  uint32_t chunks_written_ = 0;
  uint64_t records_written_ = 0;
  bool finished_ = false;
};

}  // namespace moestream::trace
