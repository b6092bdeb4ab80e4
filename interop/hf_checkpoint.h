// A Hugging Face checkpoint directory: config.json, model.safetensors.index.json (or a single
// model.safetensors), the shards it names, and the optional tokenizer files.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "format/model_config.h"
#include "interop/safetensors_file.h"
#include "platform/status.h"

namespace moestream {

struct HfTensorRef {
  const SafetensorsFile* shard = nullptr;
  const SafetensorsEntry* entry = nullptr;
  std::string shard_name;  // file name inside the directory
};

class HfCheckpoint {
 public:
  // Opens every shard and checks that each tensor of the index exists in its shard.
  static Result<std::unique_ptr<HfCheckpoint>> open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const ModelConfig& config() const { return config_; }
  const std::string& config_json() const { return config_json_; }
  const std::string& tokenizer_json() const { return tokenizer_json_; }              // "" if absent
  const std::string& tokenizer_config_json() const { return tokenizer_config_json_; }  // "" if absent
  const std::string& chat_template() const { return chat_template_; }                // "" if absent
  // Small optional files kept verbatim (generation_config.json, ...).
  const std::map<std::string, std::string>& extra_files() const { return extra_files_; }

  const std::map<std::string, HfTensorRef>& tensors() const { return tensors_; }
  const HfTensorRef* find(const std::string& name) const;
  // Shard file names with their sizes, for provenance.
  std::vector<std::pair<std::string, uint64_t>> shard_files() const;
  uint64_t total_tensor_bytes() const;

 private:
  std::string dir_;
  ModelConfig config_;
  std::string config_json_;
  std::string tokenizer_json_;
  std::string tokenizer_config_json_;
  std::string chat_template_;
  std::map<std::string, std::string> extra_files_;
  std::map<std::string, std::unique_ptr<SafetensorsFile>> shards_;
  std::map<std::string, HfTensorRef> tensors_;
};

// Reads a whole small file (config, index, tokenizer) with a size limit.
Result<std::string> read_text_file(const std::string& path, uint64_t max_size = uint64_t{1} << 30);

}  // namespace moestream
