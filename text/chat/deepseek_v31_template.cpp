// The DeepSeek-V3.1 chat template (hybrid thinking), step by step (docs/tokenizer.md):
// every past assistant turn is rendered in the non-thinking form <｜Assistant｜></think>answer,
// the generation prompt ends in </think> (non-thinking, the default) or <think> (thinking),
// tool calls are NAME<｜tool▁sep｜>ARGUMENTS without separators, tool results follow directly
// and get no generation prompt after them. Checked against the template text as copied into
// llama.cpp (models/templates/deepseek-ai-DeepSeek-V3.1.jinja, which only adds an
// enable_thinking alias). One deliberate difference: an empty tool_calls list counts as no
// tool calls (the Jinja template would open and close an empty tool-call block).
#include "text/chat/chat_template.h"

namespace moestream {

using namespace chat_tokens;

std::string deepseek_v31_tool_description(const std::vector<ChatToolDefinition>& tools) {
  std::string out = "## Tools\nYou have access to the following tools:\n";
  for (const ChatToolDefinition& tool : tools) {
    out += "\n### " + tool.name + "\nDescription: " + tool.description + "\n\nParameters: " +
           tool.parameters_json + "\n";
  }
  out += "\nIMPORTANT: ALWAYS adhere to this exact format for tool use:\n";
  out += std::string(kToolCallsBegin) + std::string(kToolCallBegin) + "tool_call_name" +
         std::string(kToolSep) + "tool_call_arguments" + std::string(kToolCallEnd) +
         "{additional_tool_calls}" + std::string(kToolCallsEnd) + "\n\n";
  out += "Where:\n"
         "- `tool_call_name` must be an exact match to one of the available tools\n"
         "- `tool_call_arguments` must be valid JSON that strictly follows the tool's Parameters Schema\n"
         "- For multiple tool calls, chain them directly without separators or spaces";
  return out;
}

Result<std::string> render_deepseek_v31(const std::vector<ChatMessage>& messages,
                                        const ChatTemplateOptions& options) {
  std::string system = joined_system_prompt(messages);
  if (!options.tools.empty()) {
    // The model card: "{system prompt}\n\n{tool_description}".
    if (!system.empty()) system += "\n\n";
    system += deepseek_v31_tool_description(options.tools);
  }
  std::string out = std::string(kBos) + system;
  bool last_user = false, is_tool = false;
  for (const ChatMessage& m : messages) {
    const std::string content = m.content.value_or("");
    if (m.role == "user") {
      out += std::string(kUser) + content;
      last_user = true;
      is_tool = false;
    } else if (m.role == "assistant" && !m.tool_calls.empty()) {
      if (last_user) out += std::string(kAssistant) + std::string(kThinkEnd);
      last_user = false;
      is_tool = false;
      bool first = true;
      for (const ChatToolCall& call : m.tool_calls) {
        if (first) {
          out += (m.content ? *m.content : "") + std::string(kToolCallsBegin);
          first = false;
        }
        out += std::string(kToolCallBegin) + call.name + std::string(kToolSep) + call.arguments +
               std::string(kToolCallEnd);
      }
      out += std::string(kToolCallsEnd) + std::string(kEos);
    } else if (m.role == "assistant") {
      if (last_user) {
        out += kAssistant;
        out += (m.prefix && options.thinking) ? kThinkBegin : kThinkEnd;
      }
      last_user = false;
      if (is_tool) {
        out += content + std::string(kEos);
        is_tool = false;
      } else {
        std::string answer = content;
        size_t end = answer.find(kThinkEnd);
        if (end != std::string::npos) answer = answer.substr(end + kThinkEnd.size());
        out += answer + std::string(kEos);
      }
    } else if (m.role == "tool") {
      last_user = false;
      is_tool = true;
      out += std::string(kToolOutputBegin) + content + std::string(kToolOutputEnd);
    }
  }
  if (options.add_generation_prompt && last_user && !is_tool) {
    out += kAssistant;
    out += options.thinking ? kThinkBegin : kThinkEnd;
  }
  return out;
}

}  // namespace moestream
