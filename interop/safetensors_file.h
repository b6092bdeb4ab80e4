// Reads one .safetensors file: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the data.
// Every offset is checked against the file size before any data is touched.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "format/dtype.h"
#include "platform/file.h"
#include "platform/status.h"

namespace moestream {

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t offset = 0;  // absolute file offset of the first byte
  uint64_t size = 0;    // == numel * dtype_size (checked)

  uint64_t numel() const;
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;  // sorted by offset
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // 8 + header length
};

// Parses and checks a header. `bytes` are the header JSON (without the 8-byte length);
// `file_size` is the whole file's size; `file_name` goes into messages. Checks: valid JSON
// object, known dtype, non-negative shape with no overflow, size == numel * dtype size,
// 0 <= begin <= end <= data length, no overlapping tensors.
Result<SafetensorsHeader> parse_safetensors_header(const uint8_t* bytes, uint64_t size,
                                                   uint64_t file_size, const std::string& file_name);

class SafetensorsFile {
 public:
  static Result<SafetensorsFile> open(const std::string& path);

  const std::string& path() const { return file_.path(); }
  const std::vector<SafetensorsEntry>& entries() const { return header_.entries; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const SafetensorsEntry* find(const std::string& name) const;
  uint64_t file_size() const { return file_size_; }
  // Reads the tensor's bytes into `out` (which must hold entry.size bytes).
  Status read(const SafetensorsEntry& entry, void* out) const;
  // Reads bytes [begin, begin + size) of the tensor (for chunked copies of huge tensors).
  Status read_part(const SafetensorsEntry& entry, uint64_t begin, void* out, uint64_t size) const;

 private:
  File file_;
  uint64_t file_size_ = 0;
  SafetensorsHeader header_;
  std::map<std::string, size_t> index_;
};

// Writes a safetensors header (with the 8-byte length prefix, padded with spaces to a
// multiple of 8 so the data starts aligned). Entries' offsets are relative to the data start.
std::string encode_safetensors_header(const std::vector<SafetensorsEntry>& entries,
                                      const std::map<std::string, std::string>& metadata);

}  // namespace moestream
