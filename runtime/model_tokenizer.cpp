#include "runtime/model_tokenizer.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "format/container_reader.h"
#include "format/moestream_generated.h"
#include "platform/file.h"
#include "platform/json_limits.h"

namespace moestream {
namespace {

Result<std::string> read_small_file(const std::string& path) {
  MOESTREAM_ASSIGN_OR_RETURN(File file, File::open_read(path));
  MOESTREAM_ASSIGN_OR_RETURN(uint64_t size, file.size());
  std::string text(size, '\0');
  if (size > 0) MOESTREAM_TRY(file.read_exact(text.data(), size, 0));
  return text;
}

}  // namespace

std::string chat_template_from_tokenizer_config(std::string_view config_json) {
  try {
    if (config_json.empty()) return {};
    auto parsed = parse_json_with_limits(config_json, json_limits::kConfig, "tokenizer_config.json");
    if (!parsed.ok() || !parsed->is_object()) return {};
    const nlohmann::json& config = *parsed;
    auto it = config.find("chat_template");
    if (it == config.end()) return {};
    if (it->is_string()) return it->get<std::string>();
    // A list of {"name", "template"}: the "default" one.
    if (it->is_array()) {
      for (const auto& entry : *it) {
        if (entry.is_object() && entry.value("name", std::string()) == "default" &&
            entry.contains("template") && entry["template"].is_string()) {
          return entry["template"].get<std::string>();
        }
      }
    }
    return {};
  } catch (const nlohmann::json::exception&) {
    return {};  // a value of the wrong type: no template
  }
}

Result<ModelTokenizer> load_model_tokenizer(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return invalid_argument(path + " is a directory; pass a .mst model or a tokenizer.json file");
  }
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    MOESTREAM_ASSIGN_OR_RETURN(Tokenizer tokenizer, Tokenizer::from_file(path));
    std::string config_text;
    auto config_path = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
    if (std::filesystem::is_regular_file(config_path, ec)) {
      auto config = read_small_file(config_path.string());
      if (config.ok()) config_text = std::move(config).value();
    }
    return ModelTokenizer{std::move(tokenizer), chat_template_from_tokenizer_config(config_text)};
  }
  auto reader = ContainerReader::open(path);
  if (!reader.ok()) {
    return reader.status().with_context("opening " + path +
                                        " (expected a .mst model or a tokenizer.json file)");
  }
  return model_tokenizer_from_container(**reader);
}

Result<ModelTokenizer> model_tokenizer_from_container(const ContainerReader& r) {
  const std::string& path = r.path();
  if (r.tokenizer_json().empty()) {
    return not_found(path + " has no embedded tokenizer; pass a tokenizer.json file instead, or "
                            "re-create the container with a current `moestream convert` / `synth`");
  }
  auto tokenizer = Tokenizer::from_json(r.tokenizer_json(), r.tokenizer_config_json());
  if (!tokenizer.ok()) return tokenizer.status().with_context(path + ": embedded tokenizer");
  std::string chat_template;
  if (const auto* text = r.header().chat_template(); text != nullptr && text->size() > 0) {
    chat_template = text->str();
  } else {
    chat_template = chat_template_from_tokenizer_config(r.tokenizer_config_json());
  }
  return ModelTokenizer{std::move(tokenizer).value(), std::move(chat_template)};
}

ChatTemplateKind chat_template_kind_of(const ModelTokenizer& t) {
  const auto think_end = t.tokenizer.token_id(std::string(chat_tokens::kThinkEnd));
  const bool has_v31_tokens = think_end && t.tokenizer.added_token(*think_end) != nullptr;
  return detect_chat_template_kind(t.chat_template_text, has_v31_tokens);
}

}  // namespace moestream
