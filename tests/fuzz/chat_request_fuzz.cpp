// libFuzzer: what `template --messages / --tools` (and later the server's request bodies) do
// with untrusted JSON: parse with limits, read messages and tools, render both templates.
#include <cstdint>
#include <string_view>

#include "platform/json_limits.h"
#include "text/chat/chat_message.h"
#include "text/chat/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using moestream::ChatTemplateKind;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto request = moestream::parse_json_with_limits<nlohmann::ordered_json>(text, moestream::json_limits::kChatRequest,
                                                                           "fuzz request");
  if (!request.ok()) return 0;
  nlohmann::ordered_json messages_json = *request, tools_json;
  if (request->is_object()) {
    messages_json = request->value("messages", nlohmann::ordered_json());
    tools_json = request->value("tools", nlohmann::ordered_json());
  }
  auto messages = moestream::chat_messages_from_json(messages_json);
  auto tools = moestream::chat_tools_from_json(tools_json);
  if (!messages.ok() || !tools.ok()) return 0;
  for (ChatTemplateKind kind : {ChatTemplateKind::kDeepSeekV3, ChatTemplateKind::kDeepSeekV31}) {
    for (bool thinking : {false, true}) {
      moestream::ChatTemplateOptions options;
      options.thinking = thinking;
      options.tools = *tools;
      (void)moestream::render_chat(kind, *messages, options);
    }
  }
  return 0;
}
