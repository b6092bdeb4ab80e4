// Shared by `logits` and `run`: opens a container and builds the CPU model over it with the
// all-resident expert provider.
#pragma once

#include <memory>
#include <string>

#include "format/container_reader.h"
#include "runtime/container_weights.h"
#include "runtime/kv_cache.h"
#include "runtime/model.h"
#include "streaming_flags.h"

namespace moestream::cli {

struct LoadedModel {
  std::unique_ptr<ContainerReader> reader;
  std::unique_ptr<ContainerWeightSource> weights;
  std::unique_ptr<ResidentExpertProvider> experts;
  std::unique_ptr<StreamingSession> streaming;  // set in streaming mode (--ram-budget)
  std::unique_ptr<Model> model;
};

// verify: "off", "fast" (resident tensors now, each expert on first use) or "full" (every
// tensor and blob now); see --verify-on-load.
Result<std::unique_ptr<LoadedModel>> load_model(const std::string& path, const std::string& verify = "fast");
// With --ram-budget in `flags`, routed experts stream through an expert cache sized for a
// context of up to `max_context` tokens; otherwise the same as load_model(path).
Result<std::unique_ptr<LoadedModel>> load_model(const std::string& path, const StreamingFlags& flags,
                                                int64_t max_context, bool bf16_kv);

// "f32" or "bf16" for --kv-cache.
Result<KvCachePrecision> parse_kv_cache_precision(const std::string& text);

}  // namespace moestream::cli
