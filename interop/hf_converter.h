// Converts a Hugging Face DeepSeek-V3 / V3.1 checkpoint directory into one .mst container,
// streaming one tensor (or one expert's three projections) at a time.
#pragma once

#include <string>

#include "format/container_writer.h"
#include "platform/status.h"

namespace moestream {

struct ConvertOptions {
  ContainerWriterOptions writer;
  bool progress = true;
  std::string command_line;  // recorded in the provenance
};

struct ConvertSummary {
  ContainerWriteStats stats;
  uint64_t source_bytes = 0;
  double seconds = 0;
  bool embedded_tokenizer = false;  // the checkpoint had no tokenizer.json
};

Result<ConvertSummary> convert_hf_checkpoint(const std::string& hf_dir, const std::string& out_path,
                                             const ConvertOptions& options = {});

}  // namespace moestream
