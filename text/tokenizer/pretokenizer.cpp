#include "text/tokenizer/pretokenizer.h"

#include <nlohmann/json.hpp>

#include "text/tokenizer/js_regex_translation.h"

namespace moestream {
namespace {

std::string escape_literal(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}-/").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string describe(const nlohmann::json& j) {
  std::string text = j.dump();
  return text.size() > 200 ? text.substr(0, 200) + "..." : text;
}

}  // namespace

Result<PreTokenizer> PreTokenizer::from_json(const nlohmann::json& config) {
  PreTokenizer pre;
  if (config.is_null()) return pre;
  MOESTREAM_TRY(pre.add_step(config));
  return pre;
}

Status PreTokenizer::add_step(const nlohmann::json& step) {
  if (!step.is_object() || !step.contains("type") || !step["type"].is_string()) {
    return invalid_argument("tokenizer.json: pre_tokenizer entry without a type: " + describe(step));
  }
  const std::string type = step["type"].get<std::string>();
  if (type == "Sequence") {
    const auto& list = step.value("pretokenizers", nlohmann::json::array());
    if (!list.is_array()) return invalid_argument("tokenizer.json: Sequence without a pretokenizers list");
    for (const auto& child : list) MOESTREAM_TRY(add_step(child));
    return ok_status();
  }
  if (type == "ByteLevel") {
    // With use_regex=false and no prefix space, ByteLevel is a pure byte<->char mapping.
    if (step.value("add_prefix_space", false) || step.value("use_regex", true)) {
      return unsupported("tokenizer.json: ByteLevel pre-tokenizer with add_prefix_space or "
                         "use_regex is not implemented: " + describe(step));
    }
    return ok_status();
  }
  if (type == "Split") {
    if (step.value("behavior", std::string()) != "Isolated" || step.value("invert", false)) {
      return unsupported("tokenizer.json: only Split with behavior \"Isolated\" and invert=false "
                         "is implemented, got " + describe(step));
    }
    const auto& pattern = step.value("pattern", nlohmann::json::object());
    std::string pcre2_pattern;
    if (pattern.contains("Regex") && pattern["Regex"].is_string()) {
      auto translated = translate_js_regex_for_pcre2(pattern["Regex"].get<std::string>());
      if (!translated.ok()) return translated.status();
      pcre2_pattern = std::move(translated).value();
    } else if (pattern.contains("String") && pattern["String"].is_string()) {
      pcre2_pattern = escape_literal(pattern["String"].get<std::string>());
    } else {
      return invalid_argument("tokenizer.json: Split without a Regex or String pattern: " + describe(step));
    }
    auto regex = Pcre2Regex::compile(pcre2_pattern);
    if (!regex.ok()) return regex.status();
    steps_.push_back(std::move(regex).value());
    return ok_status();
  }
  return unsupported("tokenizer.json: pre-tokenizer type \"" + type + "\" is not implemented");
}

PreTokenizer::Scratch::Scratch(const PreTokenizer& pre_tokenizer) {
  for (const Pcre2Regex& regex : pre_tokenizer.steps_) {
    regex_scratch_.push_back(std::make_unique<Pcre2Regex::Scratch>(regex));
  }
}

void PreTokenizer::split(std::string_view text, Scratch& scratch,
                         std::vector<std::string_view>* out) const {
  out->clear();
  if (text.empty()) return;
  auto& pieces = scratch.pieces_;
  auto& next = scratch.next_;
  pieces.assign(1, text);
  for (size_t s = 0; s < steps_.size(); ++s) {
    next.clear();
    for (std::string_view piece : pieces) steps_[s].split_isolated(piece, *scratch.regex_scratch_[s], &next);
    pieces.swap(next);
  }
  out->assign(pieces.begin(), pieces.end());
}

}  // namespace moestream
