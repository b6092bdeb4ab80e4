// The form a chat request asks its answer to take: `response_format` (text, json_object,
// json_schema) and functions marked `"strict": true`, read into a ChatOutputSpec. Errors name
// the field: a wrong shape is kCorrupt (HTTP 400), a schema outside the supported subset is
// kInvalidArgument (HTTP 422) naming the keyword and where it is. Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "platform/status.h"
#include "text/grammar/chat_output_grammar.h"

namespace moestream::api {

// nullopt when nothing constrains the answer (no response_format beyond text, no strict tool).
Result<std::optional<ChatOutputSpec>> response_format_spec(const nlohmann::ordered_json& body, ChatTemplateKind kind,
                                                           bool thinking, const std::string& tool_choice);

}  // namespace moestream::api
