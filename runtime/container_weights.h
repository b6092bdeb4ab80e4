// The forward pass's view of an opened .mst container: non-expert tensors straight from the
// mmapped file, and ResidentExpertProvider, the simplest ExpertProvider (every expert
// stays where it is in the mapping; compressed blobs are decompressed once on first use).
// The streaming expert cache replaces the provider, not the model.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "format/container_reader.h"
#include "runtime/expert_provider.h"
#include "runtime/weight_source.h"

namespace moestream {

class ContainerWeightSource : public WeightSource {
 public:
  explicit ContainerWeightSource(const ContainerReader& reader) : reader_(reader) {}
  const ModelConfig& config() const override { return reader_.config(); }
  Result<TensorView> tensor(std::string_view name) const override { return reader_.tensor(name); }
  bool has_tensor(std::string_view name) const override { return reader_.has_tensor(name); }

 private:
  const ContainerReader& reader_;
};

class ResidentExpertProvider : public ExpertProvider {
 public:
  // With verify_first_use, each expert's stored blob is checked against its xxh3 the first
  // time it is acquired, so a damaged expert is an error before it changes an answer
  // (`--verify-on-load fast`); later acquisitions cost nothing.
  explicit ResidentExpertProvider(const ContainerReader& reader, bool verify_first_use = false)
      : reader_(reader), verify_first_use_(verify_first_use) {}

  Result<AcquiredExpert> acquire(int64_t layer, int64_t expert) override;
  void release(const AcquiredExpert& expert) override;

  int64_t acquisitions() const { return acquisitions_; }
  int64_t outstanding() const { return outstanding_; }

 private:
  const ContainerReader& reader_;
  const bool verify_first_use_;
  std::mutex mutex_;
  std::map<std::pair<int64_t, int64_t>, std::vector<uint8_t>> decompressed_;
  std::set<std::pair<int64_t, int64_t>> verified_;
  int64_t acquisitions_ = 0;
  int64_t outstanding_ = 0;
};

}  // namespace moestream
