// A conversation in the OpenAI chat format, as the chat templates and the server see it.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "platform/status.h"

namespace moestream {

struct ChatToolCall {
  std::string type = "function";  // the V3 template writes it; V3.1 does not
  std::string name;
  std::string arguments;  // a JSON text, inserted verbatim
};

struct ChatMessage {
  std::string role;                    // "system", "user", "assistant" or "tool"
  std::optional<std::string> content;  // null for an assistant message that only calls tools
  std::optional<std::string> reasoning_content;  // returned by the parser; templates drop it
  std::vector<ChatToolCall> tool_calls;           // assistant only; empty = no tool calls
  bool prefix = false;  // V3.1: an assistant prefix to continue (thinking mode opens <think>)
};

struct ChatToolDefinition {
  std::string name;
  std::string description;
  std::string parameters_json = "{}";  // JSON Schema, already serialized the way it is shown
};

// Parses [{"role": ..., "content": ...}, ...]. Content may be a string, null, or a list of
// {"type": "text", "text": ...} parts (joined). Tool-call arguments may be a JSON string or
// an object (serialized compactly). Errors name the message index and the field.
Result<std::vector<ChatMessage>> chat_messages_from_json(const nlohmann::ordered_json& messages);

// Parses OpenAI "tools": [{"type": "function", "function": {"name", "description",
// "parameters"}}, ...]. Parameters are shown as Python's json.dumps would write them.
Result<std::vector<ChatToolDefinition>> chat_tools_from_json(const nlohmann::ordered_json& tools);

// Every system message's content, in order, joined by a blank line: both DeepSeek templates
// put this once after the BOS.
std::string joined_system_prompt(const std::vector<ChatMessage>& messages);

}  // namespace moestream
