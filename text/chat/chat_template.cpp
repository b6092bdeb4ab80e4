#include "text/chat/chat_template.h"

namespace moestream {

std::string_view chat_template_name(ChatTemplateKind kind) {
  return kind == ChatTemplateKind::kDeepSeekV3 ? "deepseek-v3" : "deepseek-v3.1";
}

Result<ChatTemplateKind> parse_chat_template_name(std::string_view name) {
  if (name == "v3" || name == "deepseek-v3") return ChatTemplateKind::kDeepSeekV3;
  if (name == "v3.1" || name == "deepseek-v3.1") return ChatTemplateKind::kDeepSeekV31;
  return invalid_argument("unknown chat template \"" + std::string(name) +
                          "\" (use v3 or v3.1)");
}

ChatTemplateKind detect_chat_template_kind(std::string_view text, bool tokenizer_has_v31_tokens) {
  // The V3.1 template has the `thinking` switch and tracks the last user turn; the V3
  // templates (API package and Hugging Face) write tool calls with a ```json fence.
  if (text.find("thinking") != std::string_view::npos || text.find("is_last_user") != std::string_view::npos) {
    return ChatTemplateKind::kDeepSeekV31;
  }
  if (tokenizer_has_v31_tokens) return ChatTemplateKind::kDeepSeekV31;
  if (text.find("```json") != std::string_view::npos || text.find("tool_calls") != std::string_view::npos) {
    return ChatTemplateKind::kDeepSeekV3;
  }
  return ChatTemplateKind::kDeepSeekV31;
}

Result<std::string> render_chat(ChatTemplateKind kind, const std::vector<ChatMessage>& messages,
                                const ChatTemplateOptions& options) {
  return kind == ChatTemplateKind::kDeepSeekV3 ? render_deepseek_v3(messages, options)
                                               : render_deepseek_v31(messages, options);
}

}  // namespace moestream
