// Writes a .mst container back out as a Hugging Face checkpoint (config.json, sharded
// safetensors, model.safetensors.index.json, tokenizer files): every tensor byte-identical to
// the converted source, weight_scale_inv recreated as float32.
#pragma once

#include <cstdint>
#include <string>

#include "format/container_reader.h"
#include "platform/status.h"

namespace moestream {

struct ExportOptions {
  // Shard size when the container does not record the source sharding (synthetic models).
  uint64_t max_shard_bytes = uint64_t{5} << 30;
  bool progress = true;
};

struct ExportSummary {
  uint64_t tensors = 0;
  uint64_t shards = 0;
  uint64_t bytes = 0;
  double seconds = 0;
};

Result<ExportSummary> export_hf_checkpoint(const ContainerReader& reader, const std::string& out_dir,
                                           const ExportOptions& options = {});

}  // namespace moestream
