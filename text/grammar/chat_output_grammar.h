// The grammar of a whole chat answer when its form is constrained: optional free reasoning
// closed by </think> (V3.1 thinking), then the answer: one JSON value (response_format
// json_object / json_schema) or free text, and tool calls in the model's own format whose
// arguments follow each strict function's parameters (any JSON object for the others):
//   V3.1: <｜tool▁calls▁begin｜>(<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>ARGS<｜tool▁call▁end｜>)+<｜tool▁calls▁end｜>
//   V3:   ... <｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜> ...
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "platform/status.h"
#include "text/chat/chat_template.h"
#include "text/grammar/grammar.h"
#include "text/tokenizer/tokenizer.h"

namespace moestream {

struct ConstrainedTool {
  std::string name;
  std::optional<nlohmann::ordered_json> parameters;  // the schema when strict, else any object
};

struct ChatOutputSpec {
  ChatTemplateKind kind = ChatTemplateKind::kDeepSeekV31;
  bool thinking = false;        // the answer starts inside <think>: reasoning, then </think>
  bool json_object = false;     // the answer is a JSON object
  std::optional<nlohmann::ordered_json> json_schema;  // the answer is a value valid against it
  std::vector<ConstrainedTool> tools;  // empty: no tool calls
  std::string tool_choice = "auto";    // auto | required | a function name

  // A key that is equal exactly for specs with the same grammar (for grammar caches).
  std::string key() const;
};

// kInvalidArgument for a schema outside the supported subset (naming the keyword and, for a
// tool, the function), kNotFound when the tokenizer lacks a special token the format needs.
Result<Grammar> chat_output_grammar(const ChatOutputSpec& spec, const Tokenizer& tokenizer);

}  // namespace moestream
