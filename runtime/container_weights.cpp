#include "runtime/container_weights.h"

#include <zstd.h>

namespace moestream {

Result<AcquiredExpert> ResidentExpertProvider::acquire(int64_t layer, int64_t expert) {
  MOESTREAM_ASSIGN_OR_RETURN(ExpertBlobInfo info, reader_.expert_blob(layer, expert));
  if (verify_first_use_) {
    bool known = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      known = verified_.count({layer, expert}) != 0;
    }
    if (!known) {  // two threads may both check the same expert once: harmless
      MOESTREAM_TRY(reader_.verify_expert_checksum(layer, expert));
      std::lock_guard<std::mutex> lock(mutex_);
      verified_.insert({layer, expert});
    }
  }
  AcquiredExpert acquired;
  acquired.layer = layer;
  acquired.expert = expert;
  if (info.compression == BlobCompression::kNone) {
    MOESTREAM_ASSIGN_OR_RETURN(acquired.weights, reader_.mapped_expert_weights(layer, expert));
  } else {
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, inserted] = decompressed_.try_emplace({layer, expert});
    if (inserted) {
      it->second.resize(info.raw_size);
      const uint8_t* stored = reader_.file().data() + info.offset;
      const size_t n = ZSTD_decompress(it->second.data(), it->second.size(), stored, info.stored_size);
      if (ZSTD_isError(n) || n != info.raw_size) {
        decompressed_.erase(it);
        return corrupt("layer " + std::to_string(layer) + " expert " + std::to_string(expert) +
                       ": zstd blob does not decompress to its raw size");
      }
    }
    MOESTREAM_ASSIGN_OR_RETURN(acquired.weights,
                               reader_.expert_weights(layer, expert, it->second.data()));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  ++acquisitions_;
  ++outstanding_;
  return acquired;
}

void ResidentExpertProvider::release(const AcquiredExpert&) {
  std::lock_guard<std::mutex> lock(mutex_);
  --outstanding_;
}

}  // namespace moestream
