#include "profiling/trace/trace_reader.h"

#include <zstd.h>

#include <cstring>

#include "profiling/trace/trace_encoding.h"

namespace moestream::trace {

Status TraceReader::fail(uint64_t offset, const std::string& what) const {
  return corrupt(file_.path() + ": " + what + " (at byte " + std::to_string(offset) + ")");
}

Result<TraceReader> TraceReader::open(const std::string& path) {
  TraceReader r;
  MOESTREAM_ASSIGN_OR_RETURN(r.file_, File::open_read(path));
  MOESTREAM_ASSIGN_OR_RETURN(r.file_size_, r.file_.size());
  if (r.file_size_ < kFixedHeaderBytes + 8) {
    if (r.file_size_ >= kFileMagic.size()) {
      char magic[8];
      MOESTREAM_TRY(r.file_.read_exact(magic, 8, 0));
      if (std::memcmp(magic, kFileMagic.data(), 8) != 0)
        return corrupt(path + ": not a moestream trace (.mstrace): bad magic");
    }
    return corrupt(path + ": truncated: " + std::to_string(r.file_size_) +
                   " bytes is shorter than the trace header");
  }
  uint8_t fixed[kFixedHeaderBytes];
  MOESTREAM_TRY(r.file_.read_exact(fixed, sizeof(fixed), 0));
  if (std::memcmp(fixed, kFileMagic.data(), kFileMagic.size()) != 0)
    return corrupt(path + ": not a moestream trace (.mstrace): bad magic");
  uint32_t version = get<uint32_t>(fixed + 8);
  if (version != kFormatVersion)
    return unsupported(path + ": trace format version " + std::to_string(version) +
                       " (this build reads version " + std::to_string(kFormatVersion) +
                       "); use a matching moestream");
  uint32_t header_bytes = get<uint32_t>(fixed + 12);
  if (header_bytes < kFixedHeaderBytes || header_bytes > kFixedHeaderBytes + kMaxModelNameBytes)
    return r.fail(12, "header size " + std::to_string(header_bytes) + " is out of range");
  if (uint64_t{header_bytes} + 8 > r.file_size_)
    return corrupt(path + ": truncated inside the trace header");
  std::vector<uint8_t> head(header_bytes + 8);
  MOESTREAM_TRY(r.file_.read_exact(head.data(), head.size(), 0));
  if (trace_checksum(head.data(), header_bytes) != get<uint64_t>(head.data() + header_bytes))
    return r.fail(header_bytes, "header checksum mismatch: the header is damaged");
  TraceHeader& h = r.header_;
  h.num_moe_layers = get<uint32_t>(fixed + 16);
  h.first_moe_layer = get<uint32_t>(fixed + 20);
  h.experts_per_layer = get<uint32_t>(fixed + 24);
  h.top_k = get<uint32_t>(fixed + 28);
  h.num_candidates = get<uint32_t>(fixed + 32);
  h.num_pregate = get<uint32_t>(fixed + 36);
  h.expert_bytes = get<uint64_t>(fixed + 40);
  h.model_name.assign(reinterpret_cast<const char*>(head.data()) + kFixedHeaderBytes,
                      header_bytes - kFixedHeaderBytes);
  Status valid = h.validate();
  if (!valid.ok()) return corrupt(path + ": " + valid.message());
  r.offset_ = header_bytes + 8;
  return r;
}

Status TraceReader::load_chunk() {
  const uint64_t at = offset_;
  if (file_size_ - offset_ < 4)
    return corrupt(file_.path() + ": truncated after " + std::to_string(records_read_) +
                   " records: no end marker (was the recording interrupted?)");
  uint8_t head[kChunkHeaderBytes];
  size_t head_size = std::min<uint64_t>(sizeof(head), file_size_ - offset_);
  MOESTREAM_TRY(file_.read_exact(head, head_size, offset_));
  uint32_t magic = get<uint32_t>(head);
  if (magic == kEndMagic) {
    if (head_size < kEndMarkerBytes) return fail(at, "truncated end marker");
    if (trace_checksum(head, 16) != get<uint64_t>(head + 16))
      return fail(at, "end marker checksum mismatch");
    uint32_t chunks = get<uint32_t>(head + 4);
    uint64_t records = get<uint64_t>(head + 8);
    if (chunks != chunks_read_ || records != records_read_)
      return fail(at, "end marker says " + std::to_string(records) + " records in " +
                          std::to_string(chunks) + " chunks, but " +
                          std::to_string(records_read_) + " records in " +
                          std::to_string(chunks_read_) + " chunks were read");
    if (at + kEndMarkerBytes != file_size_)
      return fail(at + kEndMarkerBytes, "unexpected bytes after the end marker");
    at_end_ = true;
    return ok_status();
  }
  if (magic != kChunkMagic) return fail(at, "expected a chunk or the end marker");
  if (head_size < kChunkHeaderBytes)
    return corrupt(file_.path() + ": truncated after " + std::to_string(records_read_) +
                   " records: chunk header cut off (was the recording interrupted?)");
  uint32_t records = get<uint32_t>(head + 4);
  uint32_t raw_bytes = get<uint32_t>(head + 8);
  uint32_t compressed_bytes = get<uint32_t>(head + 12);
  uint64_t checksum = get<uint64_t>(head + 16);
  if (records == 0 || uint64_t{records} * header_.record_bytes() != raw_bytes)
    return fail(at, "chunk of " + std::to_string(records) + " records claims " +
                        std::to_string(raw_bytes) + " bytes; records are " +
                        std::to_string(header_.record_bytes()) + " bytes each");
  uint64_t body = at + kChunkHeaderBytes;
  if (compressed_bytes > file_size_ - body)
    return corrupt(file_.path() + ": truncated after " + std::to_string(records_read_) +
                   " records: chunk " + std::to_string(chunks_read_) + " needs " +
                   std::to_string(compressed_bytes) + " bytes, the file has " +
                   std::to_string(file_size_ - body) + " left (was the recording interrupted?)");
  compressed_.resize(compressed_bytes);
  MOESTREAM_TRY(file_.read_exact(compressed_.data(), compressed_bytes, body));
  if (trace_checksum(compressed_.data(), compressed_bytes) != checksum)
    return fail(body, "chunk " + std::to_string(chunks_read_) + " checksum mismatch");
  chunk_.resize(raw_bytes);
  size_t n = ZSTD_decompress(chunk_.data(), chunk_.size(), compressed_.data(), compressed_bytes);
  if (ZSTD_isError(n))
    return fail(body, std::string("chunk ") + std::to_string(chunks_read_) +
                          " does not decompress: " + ZSTD_getErrorName(n));
  if (n != raw_bytes)
    return fail(body, "chunk " + std::to_string(chunks_read_) + " decompresses to " +
                          std::to_string(n) + " bytes, expected " + std::to_string(raw_bytes));
  offset_ = body + compressed_bytes;
  chunk_pos_ = 0;
  chunk_records_left_ = records;
  ++chunks_read_;
  return ok_status();
}

Result<bool> TraceReader::next(TraceRecord* record) {
  if (at_end_) return false;
  if (chunk_records_left_ == 0) {
    MOESTREAM_TRY(load_chunk());
    if (at_end_) return false;
  }
  decode_record(header_, chunk_.data() + chunk_pos_, record);
  Status valid = validate_record(header_, *record);
  if (!valid.ok())
    return corrupt(file_.path() + ": record " + std::to_string(records_read_) + ": " +
                   valid.message());
  chunk_pos_ += header_.record_bytes();
  --chunk_records_left_;
  ++records_read_;
  return true;
}

Result<std::vector<TraceRecord>> read_all_records(const std::string& path, TraceHeader* header) {
  MOESTREAM_ASSIGN_OR_RETURN(TraceReader reader, TraceReader::open(path));
  if (header) *header = reader.header();
  std::vector<TraceRecord> records;
  TraceRecord record;
  while (true) {
    MOESTREAM_ASSIGN_OR_RETURN(bool more, reader.next(&record));
    if (!more) break;
    records.push_back(record);
  }
  return records;
}

}  // namespace moestream::trace
