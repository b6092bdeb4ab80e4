#include "format/blob_load_benchmark.h"
#include <algorithm>
#include <cstdio>

#include "format/expert_blob_codec.h"
#include "platform/aligned_buffer.h"
#include "platform/clock.h"
#include "platform/file.h"

namespace moestream {

Result<BlobLoadMeasurement> measure_blob_loading(const ContainerReader& reader, int max_blobs) {
  std::vector<ExpertBlobInfo> blobs;
  const std::vector<int64_t> layers = reader.expert_layers();
  const int64_t experts = reader.config().n_routed_experts;
  const int64_t total = static_cast<int64_t>(layers.size()) * experts;
  if (total == 0) return invalid_argument(reader.path() + " has no expert blobs to measure");
  const int64_t count = std::min<int64_t>(total, std::max(1, max_blobs));
  for (int64_t i = 0; i < count; ++i) {
    const int64_t index = i * total / count;  // spread over layers and experts
    MOESTREAM_ASSIGN_OR_RETURN(ExpertBlobInfo b, reader.expert_blob(layers[index / experts], index % experts));
    blobs.push_back(b);
  }
  MOESTREAM_ASSIGN_OR_RETURN(File file, File::open_direct(reader.path(), /*allow_fallback=*/true));
  uint64_t largest = 0, largest_raw = 0;
  for (const auto& b : blobs) {
    largest = std::max(largest, b.padded_size);
    largest_raw = std::max(largest_raw, b.raw_size);
  }
  MOESTREAM_ASSIGN_OR_RETURN(AlignedBuffer stored, AlignedBuffer::allocate(largest));
  MOESTREAM_ASSIGN_OR_RETURN(AlignedBuffer raw, AlignedBuffer::allocate(largest_raw));
  BlobLoadMeasurement m;
  m.direct_io = file.direct();
  Status status;
  for (const auto& b : blobs) {
    Stopwatch read_watch;
    status = file.read_exact(stored.data(), b.padded_size, b.offset);
    if (!status.ok()) break;
    m.read_seconds += read_watch.elapsed_seconds();
    if (b.compression == BlobCompression::kZstd) {
      Stopwatch watch;
      status = decode_expert_blob(b, stored.data(), raw.data(), reader.path());
      m.decompress_seconds += watch.elapsed_seconds();
      if (!status.ok()) break;
    }
    m.blobs++;
    m.raw_bytes += b.raw_size;
    m.stored_bytes += b.padded_size;
  }
  if (!status.ok()) return status;
  return m;
}

std::vector<std::string> blob_load_crossover_table(const BlobLoadMeasurement& m) {
  std::vector<std::string> lines;
  const double d = m.decompress_bandwidth();
  if (d <= 0) return lines;
  const double c = m.ratio();
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-22s %12s %18s %22s", "storage (MB/s)", "raw (s/GB)",
                "zstd serial (s/GB)", "zstd overlapped (s/GB)");
  lines.push_back(buf);
  for (double mbps : {20.0, 50.0, 100.0, 150.0, 250.0, 500.0, 1000.0, 2000.0, 3500.0, 7000.0}) {
    const double b = mbps * 1e6;
    const double raw_time = 1e9 / b;
    const double serial = c * 1e9 / b + 1e9 / d;
    const double overlapped = std::max(c * 1e9 / b, 1e9 / d);
    std::snprintf(buf, sizeof buf, "%-22.0f %12.2f %17.2f%s %21.2f%s", mbps, raw_time, serial,
                  serial < raw_time ? "*" : " ", overlapped, overlapped < raw_time ? "*" : " ");
    lines.push_back(buf);
  }
  return lines;
}

}  // namespace moestream
