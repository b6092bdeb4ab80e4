// Splits what a DeepSeek model generates into reasoning_content (before </think>), content,
// and tool calls, while it streams: push() each decoded chunk and get back the parts that are
// final now. Text that might be the start of a marker (e.g. "</thi") is held until the next
// chunk decides. Both tool-call formats are read:
//   V3.1: <｜tool▁call▁begin｜>NAME<｜tool▁sep｜>ARGUMENTS<｜tool▁call▁end｜>
//   V3:   <｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGUMENTS\n```<｜tool▁call▁end｜>
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "text/chat/chat_message.h"

namespace moestream {

struct ChatOutputDelta {
  std::string reasoning;
  std::string content;
  std::vector<ChatToolCall> tool_calls;  // calls completed by this chunk
  bool empty() const { return reasoning.empty() && content.empty() && tool_calls.empty(); }
};

class ChatOutputParser {
 public:
  // `starts_in_reasoning`: the prompt ended with <think> (V3.1 thinking mode), so the output
  // begins with reasoning. Otherwise a leading "<think>" in the output also opens reasoning.
  explicit ChatOutputParser(bool starts_in_reasoning = false);

  ChatOutputDelta push(std::string_view text);
  // The end of the output: held text is released (an unfinished tool call becomes content,
  // verbatim, so nothing is lost).
  ChatOutputDelta finish();

  // Everything parsed so far.
  const std::string& reasoning_content() const { return reasoning_; }
  const std::string& content() const { return content_; }
  const std::vector<ChatToolCall>& tool_calls() const { return tool_calls_; }

  // Whole-output convenience: returns the parser after push(text) and finish().
  static ChatOutputParser parse(std::string_view text, bool starts_in_reasoning = false);

 private:
  enum class State { kStart, kReasoning, kContent, kToolCalls, kToolCall };
  // Consumes what it can from pending_; returns false when it needs more input.
  bool step(bool at_end, ChatOutputDelta* delta);
  void emit_reasoning(std::string_view text, ChatOutputDelta* delta);
  void emit_content(std::string_view text, ChatOutputDelta* delta);
  void emit_tool_call(std::string_view body, ChatOutputDelta* delta);

  State state_;
  std::string pending_;
  std::string reasoning_, content_;
  std::vector<ChatToolCall> tool_calls_;
};

}  // namespace moestream
