// Reads a .mst container: mmap, flatbuffers Verifier, bounds checks of every offset and size
// against the file size, optional xxh3 checks. This interface is the contract the runtime and
// the offload layer build on; see docs/container-format.md for the bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "format/model_config.h"
#include "format/tensor_view.h"
#include "platform/mapped_file.h"
#include "platform/status.h"

namespace moestream {

namespace fb {
struct Header;  // format/moestream_generated.h
}
struct Preamble;  // format/container_layout.h

enum class BlobCompression : uint8_t { kNone = 0, kZstd = 1 };

// Where one routed expert's blob lives in the file. The blob holds gate, up and down
// weights with their scales, 4 KiB-aligned and padded, so one O_DIRECT read of
// [offset, offset + stored_size) brings it in.
struct ExpertBlobInfo {
  int32_t layer = -1;
  int32_t expert = -1;
  uint64_t offset = 0;          // in the file, multiple of 4096
  uint64_t stored_size = 0;     // bytes on disk (compressed size when compressed)
  uint64_t padded_size = 0;     // stored_size rounded up to 4096: the O_DIRECT read length
  uint64_t raw_size = 0;        // bytes after decompression (== stored_size when uncompressed)
  uint64_t checksum = 0;        // xxh3-64 of the stored bytes
  BlobCompression compression = BlobCompression::kNone;
};

// Views of one expert's three projections inside a raw (decompressed) blob.
struct ExpertWeights {
  TensorView gate;  // [moe_intermediate, hidden]
  TensorView up;    // [moe_intermediate, hidden]
  TensorView down;  // [hidden, moe_intermediate]
};

struct ContainerOpenOptions {
  bool verify_checksums = false;  // check every blob's xxh3 at open (slow for big files)
};

// Owns the MappedFile of the container for its whole lifetime. Every TensorView, string_view,
// ExpertWeights from mapped_expert_weights(), header() and preamble() points into that mapping
// and is valid only while the reader lives; the caller keeps it alive. expert_weights() views
// point into the caller's `raw_blob`. Thread-safe: immutable after open(); all const methods
// may be called concurrently.
class ContainerReader {
 public:
  static Result<std::unique_ptr<ContainerReader>> open(const std::string& path,
                                                       const ContainerOpenOptions& options = {});
  ~ContainerReader();

  const std::string& path() const;
  const ModelConfig& config() const;
  const MappedFile& file() const;

  // Non-expert tensors by their Hugging Face name (e.g. "model.layers.0.self_attn.q_a_proj.weight");
  // FP8 weights carry their block scales in the view. kNotFound names the tensor.
  Result<TensorView> tensor(std::string_view name) const;
  bool has_tensor(std::string_view name) const;
  std::vector<std::string> tensor_names() const;

  // Routed experts, indexed [layer][expert] with the model's layer numbering (MTP layers
  // follow the main layers). Dense layers have no experts.
  bool has_experts(int64_t layer) const;
  Result<ExpertBlobInfo> expert_blob(int64_t layer, int64_t expert) const;
  // Views into `raw_blob` (the decompressed blob bytes, e.g. an expert-cache slot).
  Result<ExpertWeights> expert_weights(int64_t layer, int64_t expert, const uint8_t* raw_blob) const;
  // Views straight into the mmapped file (uncompressed blobs only).
  Result<ExpertWeights> mapped_expert_weights(int64_t layer, int64_t expert) const;

  // Embedded tokenizer files and chat template; empty when absent.
  std::string_view tokenizer_json() const;
  std::string_view tokenizer_config_json() const;
  // The original config.json text.
  std::string_view config_json() const;

  // Checks every blob and tensor checksum; the error names the first bad tensor/expert.
  Status verify_all_checksums() const;
  // The same, reporting the bytes checked so far (for a progress bar); also decompresses every
  // compressed blob and checks its size.
  Status verify_all_checksums(const std::function<void(uint64_t bytes_done)>& progress) const;
  // Bytes that verify_all_checksums reads.
  uint64_t checksummed_bytes() const;
  // Load-time checks for what the forward pass reads straight from the mapping (the pages stay
  // mapped and warm): every non-expert tensor and its scales, or one expert's stored blob.
  // Thread-safe (const, read-only).
  Status verify_tensor_checksums() const;
  // The same, handing back this process's mapping of each tensor for which `release(name)`
  // is true as soon as it is checked (the engine keeps only what its steps read, and the
  // check must not make RSS peak above that).
  Status verify_tensor_checksums(const std::function<bool(std::string_view name)>& release) const;
  Status verify_expert_checksum(int64_t layer, int64_t expert) const;
  // Bytes that verify_tensor_checksums reads.
  uint64_t tensor_bytes() const;

  // The verified flatbuffers header and preamble, for inspect / export-hf.
  const fb::Header& header() const;
  const Preamble& preamble() const;
  // The number of the layers that have routed experts, ascending.
  std::vector<int64_t> expert_layers() const;

 private:
  ContainerReader();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace moestream
