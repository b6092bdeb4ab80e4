// Random-weight DeepSeek-V3 models with the exact tensor set and shapes (model_tensors.h):
// FP8 block-scaled linears with valid scales, a grouped router with a correction bias, an MTP
// layer. Streamed in chunks, so even the full-width preset is written with bounded memory.
#pragma once

#include <cstdint>
#include <string>

#include "format/container_writer.h"
#include "format/model_config.h"
#include "platform/status.h"

namespace moestream {

struct SynthOptions {
  std::string preset = "tiny";  // tiny | mini | small | full
  int64_t layers = -1;          // main layers (-1: the preset's); the MTP layer comes on top
  int64_t experts = -1;         // routed experts per MoE layer (-1: the preset's)
  bool ue8m0 = false;           // V3.1-style power-of-two scales stored as UE8M0
  uint64_t seed = 1;
  ContainerWriterOptions writer;
  bool progress = true;
  std::string command_line;
};

struct SynthSummary {
  ModelConfig config;
  ContainerWriteStats stats;
  double seconds = 0;
};

// The config of a preset after --layers / --experts; errors name the bad option.
Result<ModelConfig> synth_preset_config(const SynthOptions& options);
// Bytes of tensor data the model has (what the container will hold, before padding).
uint64_t synth_model_bytes(const ModelConfig& config);

Result<SynthSummary> synthesize_container(const SynthOptions& options, const std::string& out_path);

}  // namespace moestream
