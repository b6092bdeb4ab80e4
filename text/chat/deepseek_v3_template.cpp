// The V3 chat template of DeepSeek's V3 API tokenizer package, statement by statement
// (shared/deepseek-reference-data/deepseek-v3-api-tokenizer/tokenizer_config.json;
// docs/tokenizer.md, Chat templates).
// Its quirks are kept on purpose, since the output must equal the Jinja rendering:
//  - `is_first` and `is_output_first` are set once per conversation, never per message: only
//    the very first tool call opens <｜Assistant｜><｜tool▁calls▁begin｜>, and only the first
//    tool result opens <｜tool▁outputs▁begin｜>;
//  - past answers keep only the text after the last </think>.
// One deliberate difference: an empty or null tool_calls list counts as no tool calls (the
// Jinja template would write a stray <｜tool▁calls▁end｜> or fail).
#include "text/chat/chat_template.h"

namespace moestream {

using namespace chat_tokens;

namespace {

void append_call(const ChatToolCall& call, std::string* out) {
  *out += std::string(kToolCallBegin) + call.type + std::string(kToolSep) + call.name + "\n```json\n" +
          call.arguments + "\n```" + std::string(kToolCallEnd);
}

}  // namespace

Result<std::string> render_deepseek_v3(const std::vector<ChatMessage>& messages,
                                       const ChatTemplateOptions& options) {
  if (options.thinking) {
    return invalid_argument("the DeepSeek-V3 template has no thinking mode (use the V3.1 template)");
  }
  if (!options.tools.empty()) {
    return invalid_argument("the DeepSeek-V3 template does not render tool definitions; describe "
                            "the tools in the system prompt, or use the V3.1 template");
  }
  std::string system = joined_system_prompt(messages);
  std::string out = std::string(kBos) + system;
  bool is_first = false, is_tool = false, is_output_first = true;
  for (const ChatMessage& m : messages) {
    const std::string content = m.content.value_or("");
    if (m.role == "user") {
      is_tool = false;
      out += std::string(kUser) + content;
    } else if (m.role == "assistant" && !m.tool_calls.empty()) {
      is_tool = false;
      for (const ChatToolCall& call : m.tool_calls) {
        if (!is_first) {
          out += std::string(kAssistant) + (m.content ? *m.content : "") + std::string(kToolCallsBegin);
          append_call(call, &out);
          is_first = true;
        } else {
          out += "\n";
          append_call(call, &out);
        }
      }
      out += std::string(kToolCallsEnd) + std::string(kEos);
    } else if (m.role == "assistant") {
      if (is_tool) {
        out += std::string(kToolOutputsEnd) + content + std::string(kEos);
        is_tool = false;
      } else {
        std::string answer = content;
        size_t end = answer.rfind(kThinkEnd);
        if (end != std::string::npos) answer = answer.substr(end + kThinkEnd.size());
        out += std::string(kAssistant) + answer + std::string(kEos);
      }
    } else if (m.role == "tool") {
      is_tool = true;
      if (is_output_first) {
        out += std::string(kToolOutputsBegin) + std::string(kToolOutputBegin) + content + std::string(kToolOutputEnd);
        is_output_first = false;
      } else {
        out += std::string(kToolOutputBegin) + content + std::string(kToolOutputEnd);
      }
    }
  }
  if (is_tool) out += kToolOutputsEnd;
  if (options.add_generation_prompt && !is_tool) out += kAssistant;
  return out;
}

}  // namespace moestream
