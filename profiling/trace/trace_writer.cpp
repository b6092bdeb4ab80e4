#include "profiling/trace/trace_writer.h"

#include <zstd.h>

#include "profiling/trace/trace_encoding.h"

namespace moestream::trace {

Result<TraceWriter> TraceWriter::create(const std::string& path, const TraceHeader& header,
                                        TraceWriterOptions options) {
  MOESTREAM_TRY(header.validate());
  if (options.records_per_chunk == 0) return invalid_argument("records_per_chunk must be > 0");
  // A chunk's raw size is stored as u32.
  uint64_t max_records = (uint64_t{1} << 31) / header.record_bytes();
  if (options.records_per_chunk > max_records)
    return invalid_argument("records_per_chunk too large for this record size");
  MOESTREAM_ASSIGN_OR_RETURN(AtomicFileWriter file, AtomicFileWriter::create(path));
  TraceWriter writer;
  writer.file_ = std::move(file);
  writer.header_ = header;
  writer.options_ = options;
  std::string encoded = encode_header(header);
  MOESTREAM_TRY(writer.file_.write(encoded.data(), encoded.size()));
  return writer;
}

Status TraceWriter::append(const TraceRecord& record) {
  if (finished_) return invalid_argument("append after finish() on " + file_.path());
  MOESTREAM_TRY(validate_record(header_, record));
  encode_record(header_, record, &chunk_);
  ++chunk_records_;
  ++records_written_;
  if (chunk_records_ == options_.records_per_chunk) return flush_chunk();
  return ok_status();
}

Status TraceWriter::flush_chunk() {
  if (chunk_records_ == 0) return ok_status();
  compressed_.resize(ZSTD_compressBound(chunk_.size()));
  size_t n = ZSTD_compress(compressed_.data(), compressed_.size(), chunk_.data(), chunk_.size(),
                           options_.zstd_level);
  if (ZSTD_isError(n))
    return internal_error(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  compressed_.resize(n);
  std::string head;
  put<uint32_t>(&head, kChunkMagic);
  put<uint32_t>(&head, chunk_records_);
  put<uint32_t>(&head, static_cast<uint32_t>(chunk_.size()));
  put<uint32_t>(&head, static_cast<uint32_t>(compressed_.size()));
  put<uint64_t>(&head, trace_checksum(compressed_.data(), compressed_.size()));
  MOESTREAM_TRY(file_.write(head.data(), head.size()));
  MOESTREAM_TRY(file_.write(compressed_.data(), compressed_.size()));
  chunk_.clear();
  chunk_records_ = 0;
  ++chunks_written_;
  return ok_status();
}

Status TraceWriter::finish() {
  if (finished_) return invalid_argument("finish() called twice on " + file_.path());
  MOESTREAM_TRY(flush_chunk());
  std::string end;
  put<uint32_t>(&end, kEndMagic);
  put<uint32_t>(&end, chunks_written_);
  put<uint64_t>(&end, records_written_);
  put<uint64_t>(&end, trace_checksum(end.data(), end.size()));
  MOESTREAM_TRY(file_.write(end.data(), end.size()));
  finished_ = true;
  return file_.commit();
}

}  // namespace moestream::trace
