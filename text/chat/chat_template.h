// The DeepSeek chat templates, rendered natively (no Jinja): the exact strings the model's
// own templates produce for a conversation. Tokenize the result without adding a BOS: the
// templates write <｜begin▁of▁sentence｜> themselves.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "platform/status.h"
#include "text/chat/chat_message.h"

namespace moestream {

enum class ChatTemplateKind {
  kDeepSeekV3,   // V3 / V3-0324: the template of DeepSeek's V3 API tokenizer package
  kDeepSeekV31,  // V3.1: hybrid thinking (docs/tokenizer.md, Chat templates)
};

std::string_view chat_template_name(ChatTemplateKind kind);  // "deepseek-v3", "deepseek-v3.1"
// Accepts "v3", "deepseek-v3", "v3.1", "deepseek-v3.1".
Result<ChatTemplateKind> parse_chat_template_name(std::string_view name);
// Picks the template for a model: V3.1 when its Jinja template has the thinking switch, or
// when its tokenizer has the V3.1 tokens (`</think>` as an added token; the built-in
// tokenizer does) unless the template is recognizably V3 and the tokenizer is not V3.1;
// V3 for a V3 template with a V3 tokenizer. V3.1 when nothing is known.
ChatTemplateKind detect_chat_template_kind(std::string_view jinja_template_text,
                                           bool tokenizer_has_v31_tokens);

struct ChatTemplateOptions {
  bool add_generation_prompt = true;
  // V3.1 only: open the answer with <think> (thinking mode) instead of </think>. Default
  // off, as in the model's template.
  bool thinking = false;
  // V3.1 only: appended to the system prompt in the format of the model card
  // (docs/tokenizer.md, Chat templates).
  std::vector<ChatToolDefinition> tools;
};

Result<std::string> render_chat(ChatTemplateKind kind, const std::vector<ChatMessage>& messages,
                                const ChatTemplateOptions& options);

// The two templates, for tests and callers that know which one they want.
Result<std::string> render_deepseek_v3(const std::vector<ChatMessage>& messages,
                                       const ChatTemplateOptions& options);
Result<std::string> render_deepseek_v31(const std::vector<ChatMessage>& messages,
                                        const ChatTemplateOptions& options);
// The V3.1 tool description block (starts "## Tools\n", ends with the last rule's line).
std::string deepseek_v31_tool_description(const std::vector<ChatToolDefinition>& tools);

// The DeepSeek control-token texts (U+FF5C "｜" and U+2581 "▁" are part of them).
namespace chat_tokens {
inline constexpr std::string_view kBos = "<｜begin▁of▁sentence｜>";
inline constexpr std::string_view kEos = "<｜end▁of▁sentence｜>";
inline constexpr std::string_view kUser = "<｜User｜>";
inline constexpr std::string_view kAssistant = "<｜Assistant｜>";
inline constexpr std::string_view kThinkBegin = "<think>";
inline constexpr std::string_view kThinkEnd = "</think>";
inline constexpr std::string_view kToolCallsBegin = "<｜tool▁calls▁begin｜>";
inline constexpr std::string_view kToolCallsEnd = "<｜tool▁calls▁end｜>";
inline constexpr std::string_view kToolCallBegin = "<｜tool▁call▁begin｜>";
inline constexpr std::string_view kToolCallEnd = "<｜tool▁call▁end｜>";
inline constexpr std::string_view kToolSep = "<｜tool▁sep｜>";
inline constexpr std::string_view kToolOutputsBegin = "<｜tool▁outputs▁begin｜>";
inline constexpr std::string_view kToolOutputsEnd = "<｜tool▁outputs▁end｜>";
inline constexpr std::string_view kToolOutputBegin = "<｜tool▁output▁begin｜>";
inline constexpr std::string_view kToolOutputEnd = "<｜tool▁output▁end｜>";
}  // namespace chat_tokens

}  // namespace moestream
