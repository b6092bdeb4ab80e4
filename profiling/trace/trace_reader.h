// Reads a .mstrace file chunk by chunk. Every malformed input is an error that names the
// file, the byte offset and the problem: bad magic, newer version, header checksum,
// truncation (no end marker: the writer was interrupted), chunk checksum, zstd failure,
// and records whose values do not fit the header's model shape.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profiling/trace/trace_format.h"
#include "platform/file.h"
#include "platform/status.h"

namespace moestream::trace {

class TraceReader {
 public:
  static Result<TraceReader> open(const std::string& path);

  const TraceHeader& header() const { return header_; }
  // Fills `record` and returns true, or returns false after the end marker was read and
  // checked. Errors are kCorrupt (or kIoError) with the path in the message.
  Result<bool> next(TraceRecord* record);
  uint64_t records_read() const { return records_read_; }
  const std::string& path() const { return file_.path(); }

 private:
  Status load_chunk();
  Status fail(uint64_t offset, const std::string& what) const;

  File file_;
  uint64_t file_size_ = 0;
  uint64_t offset_ = 0;  // next unread byte
  TraceHeader header_;
  std::vector<uint8_t> chunk_;  // decompressed records of the current chunk
  std::vector<uint8_t> compressed_;
  size_t chunk_pos_ = 0;
  uint32_t chunk_records_left_ = 0;
  uint32_t chunks_read_ = 0;
  uint64_t records_read_ = 0;
  bool at_end_ = false;
};

// Reads a whole trace into memory (tests, small tools).
Result<std::vector<TraceRecord>> read_all_records(const std::string& path,
                                                   TraceHeader* header = nullptr);

}  // namespace moestream::trace
