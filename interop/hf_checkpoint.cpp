#include "interop/hf_checkpoint.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "format/model_config_json.h"
#include "platform/file.h"
#include "platform/json_limits.h"

namespace moestream {

Result<std::string> read_text_file(const std::string& path, uint64_t max_size) {
  MOESTREAM_ASSIGN_OR_RETURN(File f, File::open_read(path));
  MOESTREAM_ASSIGN_OR_RETURN(uint64_t size, f.size());
  if (size > max_size) return invalid_argument(path + " is too large (" + std::to_string(size) + " bytes)");
  std::string text(size, '\0');
  MOESTREAM_TRY(f.read_exact(text.data(), size, 0));
  return text;
}

namespace {
bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}
}  // namespace

Result<std::unique_ptr<HfCheckpoint>> HfCheckpoint::open(const std::string& dir) {
  auto ck = std::unique_ptr<HfCheckpoint>(new HfCheckpoint());
  ck->dir_ = dir;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return not_found(dir + " is not a directory");
  const std::string config_path = dir + "/config.json";
  MOESTREAM_ASSIGN_OR_RETURN(ck->config_json_, read_text_file(config_path, 16 << 20));
  MOESTREAM_ASSIGN_OR_RETURN(ck->config_, parse_model_config_json(ck->config_json_, config_path));

  for (const char* name : {"tokenizer.json", "tokenizer_config.json"}) {
    std::string path = dir + "/" + name;
    if (!exists(path)) continue;
    MOESTREAM_ASSIGN_OR_RETURN(std::string text, read_text_file(path, 256 << 20));
    // Embedded as they are, so checked here: a container must not carry JSON that fails to load.
    const bool is_tokenizer = std::string(name) == "tokenizer.json";
    MOESTREAM_TRY(parse_json_with_limits(text, is_tokenizer ? json_limits::kTokenizer : json_limits::kConfig, path)
                      .status());
    (std::string(name) == "tokenizer.json" ? ck->tokenizer_json_ : ck->tokenizer_config_json_) = text;
  }
  for (const char* name : {"assets/chat_template.jinja", "chat_template.jinja"}) {
    std::string path = dir + "/" + name;
    if (ck->chat_template_.empty() && exists(path)) {
      MOESTREAM_ASSIGN_OR_RETURN(ck->chat_template_, read_text_file(path, 16 << 20));
    }
  }
  for (const char* name : {"generation_config.json", "special_tokens_map.json"}) {
    std::string path = dir + "/" + name;
    if (!exists(path)) continue;
    MOESTREAM_ASSIGN_OR_RETURN(ck->extra_files_[name], read_text_file(path, 16 << 20));
    MOESTREAM_TRY(parse_json_with_limits(ck->extra_files_[name], json_limits::kConfig, path).status());
  }

  // weight_map: tensor -> shard file. A checkpoint without an index is one model.safetensors.
  std::map<std::string, std::string> weight_map;
  const std::string index_path = dir + "/model.safetensors.index.json";
  if (exists(index_path)) {
    MOESTREAM_ASSIGN_OR_RETURN(std::string text, read_text_file(index_path, 256 << 20));
    auto parsed = parse_json_with_limits(text, json_limits::kCheckpointIndex, index_path);
    if (!parsed.ok()) return corrupt(parsed.status().message());
    nlohmann::json& j = *parsed;
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object()) {
      return corrupt(index_path + ": not a JSON object with a \"weight_map\" object");
    }
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it.value().is_string()) {
        return corrupt(index_path + ": weight_map entry for \"" + it.key() + "\" is not a string");
      }
      std::string shard = it.value().get<std::string>();
      if (shard.empty() || shard.find('/') != std::string::npos || shard == "..") {
        return corrupt(index_path + ": tensor \"" + it.key() + "\" names an invalid shard \"" + shard + "\"");
      }
      weight_map[it.key()] = shard;
    }
  } else if (exists(dir + "/model.safetensors")) {
    MOESTREAM_ASSIGN_OR_RETURN(auto single, SafetensorsFile::open(dir + "/model.safetensors"));
    for (const auto& e : single.entries()) weight_map[e.name] = "model.safetensors";
  } else {
    return not_found(dir + ": neither model.safetensors.index.json nor model.safetensors exists");
  }

  for (const auto& [tensor, shard] : weight_map) {
    auto it = ck->shards_.find(shard);
    if (it == ck->shards_.end()) {
      const std::string shard_path = dir + "/" + shard;
      if (!exists(shard_path)) {
        return not_found("shard " + shard_path + " is missing (the index maps tensor \"" + tensor +
                         "\" to it)");
      }
      auto opened = SafetensorsFile::open(shard_path);
      if (!opened.ok()) return opened.status();
      it = ck->shards_.emplace(shard, std::make_unique<SafetensorsFile>(std::move(opened).value())).first;
    }
    const SafetensorsEntry* entry = it->second->find(tensor);
    if (entry == nullptr) {
      return corrupt(dir + "/" + shard + ": tensor \"" + tensor +
                     "\" is listed in the index but missing from this shard");
    }
    ck->tensors_[tensor] = HfTensorRef{it->second.get(), entry, shard};
  }
  return ck;
}

const HfTensorRef* HfCheckpoint::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::vector<std::pair<std::string, uint64_t>> HfCheckpoint::shard_files() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& [name, shard] : shards_) out.emplace_back(name, shard->file_size());
  return out;
}

uint64_t HfCheckpoint::total_tensor_bytes() const {
  uint64_t total = 0;
  for (const auto& [name, ref] : tensors_) total += ref.entry->size;
  return total;
}

}  // namespace moestream
