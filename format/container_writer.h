// Streams a .mst container to disk: tensors and expert blobs are written as they are added
// (nothing but the current one is held), the header goes last, and the file appears under its
// final name only when finish() succeeds (PATH.partial until then, deleted on failure).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "format/container_layout.h"
#include "format/container_reader.h"
#include "format/model_config.h"
#include "platform/status.h"

namespace moestream {

struct ContainerWriterOptions {
  BlobCompression compression = BlobCompression::kNone;
  int zstd_level = 3;
};

// One non-expert tensor; `scales` are already in `scale_format` (F32 floats or UE8M0 bytes).
struct TensorRecord {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  uint64_t size = 0;
  ScaleFormat scale_format = ScaleFormat::kNone;
  const void* scales = nullptr;
  uint64_t scale_size = 0;
  uint32_t block_rows = 128;
  uint32_t block_cols = 128;
  std::string source_file;
};

struct ContainerMetadata {
  ModelConfig config;
  std::string config_json;
  std::string tokenizer_json;
  std::string tokenizer_config_json;
  std::string chat_template;
  std::map<std::string, std::string> extra_files;
  std::string tool;          // "moestream convert"
  std::string source;        // source directory or synth preset
  std::vector<std::pair<std::string, uint64_t>> source_files;
  std::string command_line;
  std::string notes;
};

struct ContainerWriteStats {
  uint64_t tensors = 0;
  uint64_t experts = 0;
  uint64_t tensor_bytes = 0;
  uint64_t expert_raw_bytes = 0;     // padded raw blob bytes
  uint64_t expert_stored_bytes = 0;  // on disk (compressed where that helped), padded
  uint64_t file_size = 0;
};

// Owns the partial output file (deleted if finish() is not reached). Data passed to add_*
// is copied out before the call returns. Not thread-safe: one thread at a time.
class ContainerWriter {
 public:
  static Result<std::unique_ptr<ContainerWriter>> create(const std::string& path,
                                                         const ContainerWriterOptions& options = {});
  ~ContainerWriter();

  Status add_tensor(const TensorRecord& tensor);
  // The same in pieces, for tensors too large to hold at once (a 1.9 GB embedding):
  // begin_tensor (tensor.data ignored), append_tensor_data until tensor.size bytes arrived,
  // then end_tensor with the scales (tensor.scales / scale_size as in add_tensor).
  Status begin_tensor(const TensorRecord& tensor);
  Status append_tensor_data(const void* data, uint64_t size);
  Status end_tensor(const void* scales, uint64_t scale_size);
  // `raw_blob` holds layout.raw_size bytes laid out as `layout` says, padding zeroed.
  Status add_expert(int64_t layer, int64_t expert, const ExpertBlobLayout& layout,
                    const uint8_t* raw_blob, const std::array<std::string, 3>& source_files = {});
  // Checks completeness (every MoE layer has all its experts), writes the header and the
  // preamble, fsyncs and renames PATH.partial to PATH.
  Status finish(const ContainerMetadata& metadata);
  // Deletes the partial file (also done by the destructor when finish() was not reached).
  void abandon();

  const ContainerWriteStats& stats() const;
  const std::string& path() const;

 private:
  ContainerWriter();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace moestream
