#include "api/chat_completion.h"

#include <algorithm>
#include <cstdio>

#include "api/response_format.h"
#include "text/chat/chat_output_parser.h"

namespace moestream::api {
namespace {

using json = nlohmann::ordered_json;

// A value out of range (422).
Status field_error(const std::string& field, const std::string& what) {
  return invalid_argument("'" + field + "' " + what);
}
// A wrong type or shape (400).
Status type_error(const std::string& field, const std::string& what) {
  return corrupt("'" + field + "' " + what);
}

Result<double> number(const json& body, const char* field, double fallback, double lo, double hi) {
  if (!body.contains(field) || body[field].is_null()) return fallback;
  if (!body[field].is_number()) return type_error(field, "must be a number");
  const double v = body[field].get<double>();
  if (!(v >= lo && v <= hi)) {
    char range[96];
    std::snprintf(range, sizeof(range), "must be between %g and %g", lo, hi);
    return field_error(field, range);
  }
  return v;
}

}  // namespace

Result<ChatCompletion> parse_chat_completion(const json& body, const Engine& engine) {
  if (!body.is_object()) return corrupt("the request body must be a JSON object");
  ChatCompletion c;
  if (body.contains("model") && !body["model"].is_string()) return type_error("model", "must be a string");
  c.model = body.value("model", std::string("deepseek-chat"));
  if (!body.contains("messages") || !body["messages"].is_array()) return type_error("messages", "is required: a list of messages");
  auto parsed = chat_messages_from_json(body["messages"]);
  if (!parsed.ok()) return corrupt(parsed.status().message());
  std::vector<ChatMessage> messages = std::move(parsed).value();
  if (messages.empty()) return field_error("messages", "must not be empty");
  // Thinking (V3.1 hybrid mode): the model name, or chat_template_kwargs / thinking.
  c.thinking = c.model == "deepseek-reasoner";
  if (body.contains("chat_template_kwargs") && body["chat_template_kwargs"].is_object() &&
      body["chat_template_kwargs"].contains("thinking")) {
    c.thinking = body["chat_template_kwargs"]["thinking"].is_boolean() && body["chat_template_kwargs"]["thinking"].get<bool>();
  }
  if (body.contains("thinking") && body["thinking"].is_object()) {
    const std::string type = body["thinking"].value("type", std::string());
    if (type != "enabled" && type != "disabled") return field_error("thinking.type", "must be enabled or disabled");
    c.thinking = type == "enabled";
  }
  if (engine.chat_template() != ChatTemplateKind::kDeepSeekV31) c.thinking = false;  // V3 answers without
  if (body.contains("tools") && !body["tools"].is_null()) {
    if (!body["tools"].is_array()) return type_error("tools", "must be a list of functions");
    if (body["tools"].size() > 128) return field_error("tools", "must hold at most 128 functions");
    auto tools = chat_tools_from_json(body["tools"]);
    if (!tools.ok()) return corrupt(tools.status().message());
    c.tools = std::move(tools).value();
  }
  c.tool_choice = c.tools.empty() ? "none" : "auto";
  if (body.contains("tool_choice") && !body["tool_choice"].is_null()) {
    const json& tc = body["tool_choice"];
    if (tc.is_string()) {
      c.tool_choice = tc.get<std::string>();
      if (c.tool_choice != "none" && c.tool_choice != "auto" && c.tool_choice != "required")
        return field_error("tool_choice", "must be none, auto, required or a named function");
    } else if (tc.is_object() && tc.contains("function") && tc["function"].contains("name")) {
      c.tool_choice = tc["function"]["name"].get<std::string>();
    } else {
      return field_error("tool_choice", "must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}}");
    }
  }
  ChatTemplateOptions options;
  options.thinking = c.thinking;
  // Chat prefix completion: a last assistant message marked prefix is continued as it is.
  options.add_generation_prompt = !(messages.back().role == "assistant" && messages.back().prefix);
  if (c.tool_choice != "none") options.tools = c.tools;
  MOESTREAM_ASSIGN_OR_RETURN(c.request.prompt, engine.chat_prompt(messages, options));

  GenerationRequest& r = c.request;
  MOESTREAM_ASSIGN_OR_RETURN(r.sampling.temperature, number(body, "temperature", 1.0, 0.0, 2.0));
  MOESTREAM_ASSIGN_OR_RETURN(r.sampling.top_p, number(body, "top_p", 1.0, 1e-9, 1.0));
  MOESTREAM_ASSIGN_OR_RETURN(r.sampling.frequency_penalty, number(body, "frequency_penalty", 0.0, -2.0, 2.0));
  MOESTREAM_ASSIGN_OR_RETURN(r.sampling.presence_penalty, number(body, "presence_penalty", 0.0, -2.0, 2.0));
  MOESTREAM_ASSIGN_OR_RETURN(double seed, number(body, "seed", 0, 0, 9007199254740992.0));
  r.sampling.seed = static_cast<uint64_t>(seed);
  const double room = static_cast<double>(engine.max_context());
  MOESTREAM_ASSIGN_OR_RETURN(double max_tokens, number(body, "max_tokens", std::min(4096.0, room), 1, room));
  r.max_tokens = static_cast<int64_t>(max_tokens);
  if (body.contains("stop") && !body["stop"].is_null()) {
    const json& stop = body["stop"];
    if (stop.is_string()) {
      r.stop.push_back(stop.get<std::string>());
    } else if (stop.is_array() && stop.size() <= 16) {
      for (const json& s : stop) {
        if (!s.is_string()) return type_error("stop", "must be a string or a list of up to 16 strings");
        r.stop.push_back(s.get<std::string>());
      }
    } else {
      return field_error("stop", "must be a string or a list of up to 16 strings");
    }
  }
  if (body.contains("logprobs") && !body["logprobs"].is_null()) {
    if (!body["logprobs"].is_boolean()) return type_error("logprobs", "must be true or false");
    r.logprobs = body["logprobs"].get<bool>();
  }
  MOESTREAM_ASSIGN_OR_RETURN(double top, number(body, "top_logprobs", 0, 0, 20));
  r.top_logprobs = static_cast<int64_t>(top);
  if (r.top_logprobs > 0 && !r.logprobs) return field_error("top_logprobs", "needs logprobs: true");
  if (body.contains("stream") && !body["stream"].is_null()) {
    if (!body["stream"].is_boolean()) return type_error("stream", "must be true or false");
    c.stream = body["stream"].get<bool>();
  }
  if (body.contains("stream_options") && body["stream_options"].is_object()) {
    c.include_usage = body["stream_options"].value("include_usage", false);
  }
  MOESTREAM_ASSIGN_OR_RETURN(auto spec, response_format_spec(body, engine.chat_template(), c.thinking, c.tool_choice));
  if (spec) {
    if (!engine.tokenizer()) return not_found("the model has no tokenizer, so no constrained output");
    MOESTREAM_ASSIGN_OR_RETURN(r.grammar, engine.constrain(*spec));
  }
  return c;
}

json usage_body(const GenerationResult& result, int64_t reasoning_tokens) {
  const GenerationUsage& u = result.usage;
  const RequestExpertCounters& e = result.experts;
  json usage;
  usage["prompt_tokens"] = u.prompt_tokens;
  usage["completion_tokens"] = u.completion_tokens;
  usage["total_tokens"] = u.prompt_tokens + u.completion_tokens;
  usage["prompt_cache_hit_tokens"] = u.prompt_cache_hit_tokens;
  usage["prompt_cache_miss_tokens"] = u.prompt_cache_miss_tokens;
  usage["prompt_tokens_details"] = {{"cached_tokens", u.prompt_cache_hit_tokens}};
  usage["completion_tokens_details"] = {{"reasoning_tokens", reasoning_tokens}};
  const double accesses = e.hits + e.misses;
  usage["x_moestream"] = {{"expert_hits", e.hits},
                          {"expert_misses", e.misses},
                          {"expert_hit_rate", accesses > 0 ? e.hits / accesses : 0.0},
                          {"expert_bytes_read", e.bytes_read},
                          {"expert_bytes_read_per_token",
                           u.completion_tokens > 0 ? e.bytes_read / static_cast<double>(u.completion_tokens) : 0.0},
                          {"expert_stall_s", e.stall_s},
                          {"queued_s", result.timings.queued_s},
                          {"prefill_s", result.timings.prefill_s},
                          {"decode_s", result.timings.decode_s},
                          {"decode_tokens_per_s", result.timings.tokens_per_second()}};
  return usage;
}

const char* finish_reason_text(const GenerationResult& result, bool has_tool_calls) {
  switch (result.finish) {
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "insufficient_system_resource";
    case FinishReason::kStop: break;
  }
  return has_tool_calls ? "tool_calls" : "stop";
}

int http_status(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kCorrupt: return 400;
    case ErrorCode::kInvalidArgument: return 422;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kOutOfMemory: return 503;
    default: return 500;
  }
}

const char* error_type(int http_status) {
  switch (http_status) {
    case 400: case 404: case 413: case 422: return "invalid_request_error";
    case 401: return "authentication_error";
    case 429: return "rate_limit_error";
    case 503: return "unavailable_error";
    default: return "server_error";
  }
}

json error_body(const std::string& message, const std::string& type, int code) {
  json e;
  e["error"] = {{"message", message}, {"type", type}, {"code", code}};
  return e;
}

json chat_completion_body(const ChatCompletion& c, const GenerationResult& result, const std::string& id,
                          int64_t created, const std::vector<TokenEvent>& logprobs, const Tokenizer* tokenizer) {
  const ChatOutputParser parsed = ChatOutputParser::parse(result.text, c.thinking);
  json message;
  message["role"] = "assistant";
  message["content"] = parsed.content();
  if (c.thinking) message["reasoning_content"] = parsed.reasoning_content();
  if (!parsed.tool_calls().empty() && c.tool_choice != "none") {
    json calls = json::array();
    for (size_t i = 0; i < parsed.tool_calls().size(); ++i) {
      const ChatToolCall& call = parsed.tool_calls()[i];
      calls.push_back({{"index", i},
                       {"id", "call_" + id + "_" + std::to_string(i)},
                       {"type", "function"},
                       {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
    }
    message["tool_calls"] = calls;
  }
  json choice;
  choice["index"] = 0;
  choice["message"] = message;
  if (c.request.logprobs) {
    json content = json::array();
    auto piece = [&](int32_t token) {
      return tokenizer ? std::string(tokenizer->token_bytes(token)) : std::to_string(token);
    };
    for (const TokenEvent& e : logprobs) {
      if (e.token < 0) continue;
      json top = json::array();
      for (const auto& [token, lp] : e.top_logprobs) top.push_back({{"token", piece(token)}, {"logprob", lp}});
      content.push_back({{"token", piece(e.token)}, {"logprob", e.logprob}, {"top_logprobs", top}});
    }
    choice["logprobs"] = {{"content", content}};
  } else {
    choice["logprobs"] = nullptr;
  }
  choice["finish_reason"] = finish_reason_text(result, choice["message"].contains("tool_calls"));
  json body;
  body["id"] = id;
  body["object"] = "chat.completion";
  body["created"] = created;
  body["model"] = c.model;
  body["choices"] = json::array({choice});
  const int64_t reasoning_tokens =
      tokenizer && !parsed.reasoning_content().empty() ? static_cast<int64_t>(tokenizer->encode(parsed.reasoning_content()).size()) : 0;
  body["usage"] = usage_body(result, reasoning_tokens);
  return body;
}

}  // namespace moestream::api
