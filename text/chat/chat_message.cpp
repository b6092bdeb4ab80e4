#include "text/chat/chat_message.h"

#include <nlohmann/json.hpp>

#include "text/chat/python_json.h"

namespace moestream {
namespace {

using Json = nlohmann::ordered_json;

Status field_error(size_t index, const std::string& what) {
  return invalid_argument("messages[" + std::to_string(index) + "]: " + what);
}

// A string, null, or [{"type": "text", "text": ...}] parts.
Result<std::optional<std::string>> content_of(const Json& message, size_t index) {
  auto it = message.find("content");
  if (it == message.end() || it->is_null()) return std::optional<std::string>();
  if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
  if (it->is_array()) {
    std::string text;
    for (const auto& part : *it) {
      if (!part.is_object() || part.value("type", std::string()) != "text" || !part.contains("text") ||
          !part["text"].is_string()) {
        return field_error(index, "content parts must be {\"type\": \"text\", \"text\": \"...\"}");
      }
      text += part["text"].get<std::string>();
    }
    return std::optional<std::string>(text);
  }
  return field_error(index, "content must be a string, null or a list of text parts");
}

Result<ChatToolCall> tool_call_of(const Json& call, size_t index) {
  if (!call.is_object()) return field_error(index, "each tool_calls entry must be an object");
  ChatToolCall out;
  if (call.contains("type") && call["type"].is_string()) out.type = call["type"].get<std::string>();
  const Json* fn = call.contains("function") ? &call["function"] : &call;
  if (!fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string()) {
    return field_error(index, "a tool call needs function.name");
  }
  out.name = (*fn)["name"].get<std::string>();
  auto args = fn->find("arguments");
  if (args == fn->end() || args->is_null()) {
    out.arguments = "{}";
  } else if (args->is_string()) {
    out.arguments = args->get<std::string>();
  } else {
    out.arguments = args->dump();
  }
  return out;
}

}  // namespace

Result<std::vector<ChatMessage>> chat_messages_from_json(const Json& messages) {
  try {
    if (!messages.is_array()) return invalid_argument("messages must be a JSON array");
    std::vector<ChatMessage> out;
    for (size_t i = 0; i < messages.size(); ++i) {
      const Json& m = messages[i];
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
        return field_error(i, "each message must be an object with a string \"role\"");
      }
      ChatMessage msg;
      msg.role = m["role"].get<std::string>();
      if (msg.role != "system" && msg.role != "user" && msg.role != "assistant" && msg.role != "tool") {
        return field_error(i, "unknown role \"" + msg.role + "\" (system, user, assistant or tool)");
      }
      MOESTREAM_ASSIGN_OR_RETURN(msg.content, content_of(m, i));
      if (m.contains("reasoning_content") && m["reasoning_content"].is_string()) {
        msg.reasoning_content = m["reasoning_content"].get<std::string>();
      }
      if (auto calls = m.find("tool_calls"); calls != m.end() && !calls->is_null()) {
        if (!calls->is_array()) return field_error(i, "tool_calls must be a list");
        if (msg.role != "assistant") return field_error(i, "only assistant messages have tool_calls");
        for (const auto& call : *calls) {
          MOESTREAM_ASSIGN_OR_RETURN(ChatToolCall c, tool_call_of(call, i));
          msg.tool_calls.push_back(std::move(c));
        }
      }
      msg.prefix = m.contains("prefix") && m["prefix"].is_boolean() && m["prefix"].get<bool>();
      if (!msg.content && msg.tool_calls.empty() && msg.role != "assistant") {
        return field_error(i, "a " + msg.role + " message needs content");
      }
      out.push_back(std::move(msg));
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return invalid_argument(std::string("messages: unexpected value: ") + e.what());
  }
}

Result<std::vector<ChatToolDefinition>> chat_tools_from_json(const Json& tools) {
  try {
    if (tools.is_null()) return std::vector<ChatToolDefinition>();
    if (!tools.is_array()) return invalid_argument("tools must be a JSON array");
    std::vector<ChatToolDefinition> out;
    for (size_t i = 0; i < tools.size(); ++i) {
      const Json& t = tools[i];
      const Json* fn = t.is_object() && t.contains("function") ? &t["function"] : &t;
      if (!fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string()) {
        return invalid_argument("tools[" + std::to_string(i) + "]: needs function.name");
      }
      ChatToolDefinition def;
      def.name = (*fn)["name"].get<std::string>();
      if (fn->contains("description") && (*fn)["description"].is_string()) {
        def.description = (*fn)["description"].get<std::string>();
      }
      if (fn->contains("parameters")) def.parameters_json = python_json_dumps((*fn)["parameters"]);
      out.push_back(std::move(def));
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return invalid_argument(std::string("tools: unexpected value: ") + e.what());
  }
}

std::string joined_system_prompt(const std::vector<ChatMessage>& messages) {
  std::string system;
  bool first = true;
  for (const ChatMessage& m : messages) {
    if (m.role != "system") continue;
    if (!first) system += "\n\n";
    system += m.content.value_or("");
    first = false;
  }
  return system;
}

}  // namespace moestream
