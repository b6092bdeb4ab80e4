// A chat completion as `chat.completion.chunk` objects while it is generated: the first chunk
// carries the role, then each token's text goes through the model-output parser so reasoning
// arrives as delta.reasoning_content, the answer as delta.content and each finished tool call
// as delta.tool_calls (index, id, name, arguments); tool-call tokens never reach either text.
// The last chunk carries finish_reason, and with include_usage one more carries the usage.
// Not thread-safe: one per request, fed in token order.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/chat_completion.h"
#include "text/chat/chat_output_parser.h"

namespace moestream::api {

class ChatStream {
 public:
  ChatStream(const ChatCompletion& completion, std::string id, int64_t created);

  std::vector<nlohmann::ordered_json> on_token(const TokenEvent& event);
  std::vector<nlohmann::ordered_json> finish(const GenerationResult& result);

 private:
  nlohmann::ordered_json chunk(nlohmann::ordered_json delta, const nlohmann::ordered_json& finish_reason) const;
  void add_delta(const ChatOutputDelta& delta, std::vector<nlohmann::ordered_json>* out);

  const ChatCompletion& completion_;
  std::string id_;
  int64_t created_;
  ChatOutputParser parser_;
  bool started_ = false;
  int tool_calls_ = 0;
  int64_t reasoning_tokens_ = 0;
};

}  // namespace moestream::api
