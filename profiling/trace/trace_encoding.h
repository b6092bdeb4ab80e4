// Little-endian byte packing of .mstrace headers and records, shared by the writer and the
// reader so both sides agree on the layout in docs/trace-format.md.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

#include "profiling/trace/trace_format.h"

namespace moestream::trace {

static_assert(std::endian::native == std::endian::little,
              "the .mstrace layout is little-endian; add byte swapping for this host");

template <typename T>
inline void put(std::string* out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out->append(bytes, sizeof(T));
}

template <typename T>
inline T get(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

// Fixed fields, model name, then the xxh3-64 of everything before it.
std::string encode_header(const TraceHeader& header);
void encode_record(const TraceHeader& header, const TraceRecord& record, std::string* out);
// `p` points at header.record_bytes() bytes; the result still needs validate_record().
void decode_record(const TraceHeader& header, const uint8_t* p, TraceRecord* record);

uint64_t trace_checksum(const void* data, size_t size);

}  // namespace moestream::trace
