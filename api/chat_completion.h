// The DeepSeek / OpenAI chat-completions protocol over the engine: a request body becomes an
// engine request (messages through the model's chat template, thinking mode, sampling, stop,
// logprobs), and an engine result becomes a `chat.completion` body (content, reasoning_content,
// tool calls, finish_reason, usage with prompt-cache hit and miss tokens). `moestream batch`
// and the server share it. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "platform/status.h"
#include "runtime/engine/engine.h"
#include "text/chat/chat_message.h"

namespace moestream::api {

struct ChatCompletion {
  std::string model;  // as asked ("deepseek-chat", "deepseek-reasoner", ...)
  bool thinking = false;
  bool stream = false;
  bool include_usage = false;
  std::vector<ChatToolDefinition> tools;
  std::string tool_choice = "auto";  // none | auto | required | a function name
  GenerationRequest request;         // prompt rendered, ready to submit
};

// Parses and checks a request body against `engine` (its template, tokenizer and context).
// Errors name the field: kCorrupt for a malformed body or a wrong type (HTTP 400),
// kInvalidArgument for a value out of range (HTTP 422).
Result<ChatCompletion> parse_chat_completion(const nlohmann::ordered_json& body, const Engine& engine);

// The response body for a finished request.
nlohmann::ordered_json chat_completion_body(const ChatCompletion& completion, const GenerationResult& result,
                                            const std::string& id, int64_t created,
                                            const std::vector<TokenEvent>& logprobs, const Tokenizer* tokenizer);

// The usage object: prompt = hit + miss tokens, reasoning tokens, and x_moestream with the
// request's share of the expert cache's work (hits, misses, bytes read, stall).
nlohmann::ordered_json usage_body(const GenerationResult& result, int64_t reasoning_tokens);

// The finish_reason a client sees: stop, length, tool_calls (only with calls), cancelled, or
// insufficient_system_resource when the engine failed mid-answer. Plain and streamed alike.
const char* finish_reason_text(const GenerationResult& result, bool has_tool_calls);

// HTTP status and error type for a failed parse or a failed request.
int http_status(const Status& status);
const char* error_type(int http_status);

// {"error": {"message", "type", "code"}} as the OpenAI clients expect it.
nlohmann::ordered_json error_body(const std::string& message, const std::string& type, int code);

}  // namespace moestream::api
