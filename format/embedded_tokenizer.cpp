#include "format/embedded_tokenizer.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "platform/json_limits.h"

// .incbin copies the files into .rodata at assembly time; the symbols bracket each file.
#define MOESTREAM_INCBIN(symbol, file)                                   \
  __asm__(".section .rodata\n"                                           \
          ".global " #symbol "_begin\n"                                  \
          ".balign 16\n" #symbol "_begin:\n"                             \
          ".incbin \"" file "\"\n"                                       \
          ".global " #symbol "_end\n" #symbol "_end:\n"                  \
          ".byte 0\n"                                                    \
          ".previous\n");                                                \
  extern "C" const char symbol##_begin[];                                \
  extern "C" const char symbol##_end[]

MOESTREAM_INCBIN(moestream_tokenizer_json, MOESTREAM_TOKENIZER_DIR "/tokenizer.json");
MOESTREAM_INCBIN(moestream_tokenizer_config_json, MOESTREAM_TOKENIZER_DIR "/tokenizer_config.json");

namespace moestream {

std::string_view embedded_tokenizer_json() {
  return {moestream_tokenizer_json_begin,
          static_cast<size_t>(moestream_tokenizer_json_end - moestream_tokenizer_json_begin)};
}

std::string_view embedded_tokenizer_config_json() {
  return {moestream_tokenizer_config_json_begin,
          static_cast<size_t>(moestream_tokenizer_config_json_end - moestream_tokenizer_config_json_begin)};
}

namespace {

// nlohmann::json (std::map), not ordered_json: its linear-time inserts are quadratic for a 128K vocabulary.
using Json = nlohmann::json;

int64_t id_of(const Json& entry) {
  auto it = entry.find("id");
  return it != entry.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
}

}  // namespace

Result<int64_t> tokenizer_json_id_limit(std::string_view tokenizer_json) {
  MOESTREAM_ASSIGN_OR_RETURN(const Json doc,
                             parse_json_with_limits<Json>(tokenizer_json, json_limits::kTokenizer, "tokenizer.json"));
  if (!doc.is_object()) return invalid_argument("tokenizer.json is not a JSON object");
  int64_t limit = 0;
  auto model = doc.find("model");
  if (model != doc.end() && model->is_object()) {
    auto vocab = model->find("vocab");
    if (vocab != model->end() && vocab->is_object()) {
      for (const auto& [token, id] : vocab->items()) {
        if (id.is_number_integer()) limit = std::max(limit, id.get<int64_t>() + 1);
      }
    }
  }
  auto added = doc.find("added_tokens");
  if (added != doc.end() && added->is_array()) {
    for (const auto& entry : *added) limit = std::max(limit, id_of(entry) + 1);
  }
  return limit;
}

Status check_tokenizer_fits(std::string_view tokenizer_json, int64_t vocab_size) {
  if (tokenizer_json.empty()) return ok_status();
  MOESTREAM_ASSIGN_OR_RETURN(const int64_t limit, tokenizer_json_id_limit(tokenizer_json));
  if (limit <= vocab_size) return ok_status();
  return invalid_argument("the tokenizer defines " + std::to_string(limit) + " token ids but the model's vocab_size is " +
                          std::to_string(vocab_size) + ": a text prompt would produce ids the model cannot embed");
}

Result<TokenizerFiles> embedded_tokenizer_for_vocab(int64_t vocab_size) {
  TokenizerFiles files{std::string(embedded_tokenizer_json()), std::string(embedded_tokenizer_config_json())};
  MOESTREAM_ASSIGN_OR_RETURN(const int64_t limit, tokenizer_json_id_limit(files.tokenizer_json));
  if (limit <= vocab_size) return files;
  MOESTREAM_ASSIGN_OR_RETURN(Json doc, parse_json_with_limits<Json>(files.tokenizer_json,
                                                                                   json_limits::kTokenizer,
                                                                                   "tokenizer.json"));
  Json& added = doc["added_tokens"];
  // The cut: ids below it keep their BPE token; added tokens at or above it move up to the top.
  int64_t cut = vocab_size;
  for (int64_t moved = -1; moved != static_cast<int64_t>(0) && cut > 0;) {
    int64_t above = 0;
    for (const auto& entry : added) above += id_of(entry) >= cut ? 1 : 0;
    const int64_t next = vocab_size - above;
    moved = next == cut ? 0 : 1;
    cut = next;
  }
  if (cut < 512) {
    return invalid_argument("a vocabulary of " + std::to_string(vocab_size) +
                            " ids is too small for the built-in tokenizer (it needs at least " +
                            std::to_string(vocab_size - cut + 512) + ")");
  }
  std::map<int64_t, int64_t> remap;  // old added-token id -> new id
  int64_t next_id = cut;
  for (auto& entry : added) {
    const int64_t id = id_of(entry);
    if (id >= cut) {
      remap[id] = next_id;
      entry["id"] = next_id++;
    }
  }
  Json& model = doc["model"];
  Json vocab = Json::object();
  std::set<std::string> kept;
  for (const auto& [token, id] : model["vocab"].items()) {
    if (id.is_number_integer() && id.get<int64_t>() < cut) {
      vocab[token] = id;
      kept.insert(token);
    }
  }
  Json merges = Json::array();
  for (const auto& merge : model["merges"]) {
    std::string left, right;
    if (merge.is_string()) {
      const std::string m = merge.get<std::string>();
      const size_t space = m.find(' ');
      if (space == std::string::npos) continue;
      left = m.substr(0, space);
      right = m.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else {
      continue;
    }
    if (kept.count(left) && kept.count(right) && kept.count(left + right)) merges.push_back(merge);
  }
  model["vocab"] = std::move(vocab);
  model["merges"] = std::move(merges);
  files.tokenizer_json = doc.dump();

  // tokenizer_config.json names added tokens by id too (added_tokens_decoder).
  MOESTREAM_ASSIGN_OR_RETURN(Json config, parse_json_with_limits<Json>(files.tokenizer_config_json,
                                                                                      json_limits::kConfig,
                                                                                      "tokenizer_config.json"));
  auto decoder = config.find("added_tokens_decoder");
  if (decoder != config.end() && decoder->is_object()) {
    Json remapped = Json::object();
    for (const auto& [key, value] : decoder->items()) {
      const int64_t id = std::strtoll(key.c_str(), nullptr, 10);
      if (id < cut) remapped[key] = value;
      else if (auto it = remap.find(id); it != remap.end()) remapped[std::to_string(it->second)] = value;
    }
    *decoder = std::move(remapped);
  }
  files.tokenizer_config_json = config.dump(2);
  return files;
}

}  // namespace moestream
