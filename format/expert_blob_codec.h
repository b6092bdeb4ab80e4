// The one codec for an expert blob's stored bytes: check the xxh3, then (zstd blobs) inflate
// into the raw layout that ContainerReader::expert_weights() describes. Used by the streaming
// loader, `verify`, `export-hf`, `inspect --measure-load` and the tests, so every path reports
// damage with the same words.
// Thread-safe: the functions keep no shared state (zstd contexts are per thread).
#pragma once

#include <cstdint>
#include <string>

#include "format/container_reader.h"
#include "platform/status.h"

namespace moestream {

// "FILE: expert E of layer L (model.layers.L.mlp.experts.E)": how errors name a blob.
std::string expert_blob_name(const ExpertBlobInfo& info, const std::string& file);

// Compares xxh3 of the info.stored_size stored bytes with info.checksum; the error names
// `file`, the layer and the expert.
Status verify_expert_blob(const ExpertBlobInfo& info, const uint8_t* stored, const std::string& file);

// Writes info.raw_size bytes to `raw_out`: a copy when uncompressed (a loader can instead
// read uncompressed blobs straight into the slot), zstd decompression otherwise. `stored`
// and `raw_out` may be the same pointer only for uncompressed blobs.
Status decode_expert_blob(const ExpertBlobInfo& info, const uint8_t* stored, uint8_t* raw_out,
                          const std::string& file);

}  // namespace moestream
