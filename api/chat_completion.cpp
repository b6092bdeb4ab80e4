#include "api/chat_completion.h"

#include <algorithm>

#include "text/chat/chat_output_parser.h"

namespace moestream::api {
namespace {

using json = nlohmann::ordered_json;

Status field_error(const std::string& field, const std::string& what) {
  return invalid_argument("'" + field + "' " + what);
}

Result<double> number(const json& body, const char* field, double fallback, double lo, double hi) {
  if (!body.contains(field) || body[field].is_null()) return fallback;
  if (!body[field].is_number()) return field_error(field, "must be a number");
  const double v = body[field].get<double>();
  if (!(v >= lo && v <= hi)) {
    return field_error(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return v;
}

}  // namespace

Result<ChatCompletion> parse_chat_completion(const json& body, const Engine& engine) {
  if (!body.is_object()) return invalid_argument("the request body must be a JSON object");
  ChatCompletion c;
  c.model = body.value("model", std::string("deepseek-chat"));
  if (!body.contains("messages")) return field_error("messages", "is required");
  MOESTREAM_ASSIGN_OR_RETURN(std::vector<ChatMessage> messages, chat_messages_from_json(body["messages"]));
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
    if (!body["tools"].is_array() || body["tools"].size() > 128) return field_error("tools", "must be a list of at most 128 functions");
    MOESTREAM_ASSIGN_OR_RETURN(c.tools, chat_tools_from_json(body["tools"]));
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
        if (!s.is_string()) return field_error("stop", "must be a string or a list of up to 16 strings");
        r.stop.push_back(s.get<std::string>());
      }
    } else {
      return field_error("stop", "must be a string or a list of up to 16 strings");
    }
  }
  if (body.contains("logprobs") && !body["logprobs"].is_null()) {
    if (!body["logprobs"].is_boolean()) return field_error("logprobs", "must be true or false");
    r.logprobs = body["logprobs"].get<bool>();
  }
  MOESTREAM_ASSIGN_OR_RETURN(double top, number(body, "top_logprobs", 0, 0, 20));
  r.top_logprobs = static_cast<int64_t>(top);
  if (r.top_logprobs > 0 && !r.logprobs) return field_error("top_logprobs", "needs logprobs: true");
  if (body.contains("stream") && !body["stream"].is_null()) {
    if (!body["stream"].is_boolean()) return field_error("stream", "must be true or false");
    c.stream = body["stream"].get<bool>();
  }
  if (body.contains("stream_options") && body["stream_options"].is_object()) {
    c.include_usage = body["stream_options"].value("include_usage", false);
  }
  return c;
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
  std::string finish = result.finish == FinishReason::kLength ? "length" : "stop";
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
    if (finish == "stop") finish = "tool_calls";
  }
  if (result.finish == FinishReason::kCancelled) finish = "cancelled";
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
  choice["finish_reason"] = finish;
  json body;
  body["id"] = id;
  body["object"] = "chat.completion";
  body["created"] = created;
  body["model"] = c.model;
  body["choices"] = json::array({choice});
  const GenerationUsage& u = result.usage;
  body["usage"] = {{"prompt_tokens", u.prompt_tokens},
                   {"completion_tokens", u.completion_tokens},
                   {"total_tokens", u.prompt_tokens + u.completion_tokens},
                   {"prompt_cache_hit_tokens", u.prompt_cache_hit_tokens},
                   {"prompt_cache_miss_tokens", u.prompt_cache_miss_tokens},
                   {"prompt_tokens_details", {{"cached_tokens", u.prompt_cache_hit_tokens}}}};
  return body;
}

}  // namespace moestream::api
