#include "api/chat_stream.h"

namespace moestream::api {

using json = nlohmann::ordered_json;

ChatStream::ChatStream(const ChatCompletion& completion, std::string id, int64_t created)
    : completion_(completion), id_(std::move(id)), created_(created), parser_(completion.thinking) {}

json ChatStream::chunk(json delta, const json& finish_reason) const {
  json choice;
  choice["index"] = 0;
  choice["delta"] = std::move(delta);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish_reason;
  json c;
  c["id"] = id_;
  c["object"] = "chat.completion.chunk";
  c["created"] = created_;
  c["model"] = completion_.model;
  c["choices"] = json::array({choice});
  if (completion_.include_usage) c["usage"] = nullptr;
  return c;
}

void ChatStream::add_delta(const ChatOutputDelta& d, std::vector<json>* out) {
  if (!started_) {
    started_ = true;
    out->push_back(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
  }
  if (!d.reasoning.empty()) out->push_back(chunk({{"reasoning_content", d.reasoning}}, nullptr));
  if (!d.content.empty()) out->push_back(chunk({{"content", d.content}}, nullptr));
  if (completion_.tool_choice == "none") return;
  for (const ChatToolCall& call : d.tool_calls) {
    const int index = tool_calls_++;
    json tc = {{"index", index},
               {"id", "call_" + id_ + "_" + std::to_string(index)},
               {"type", "function"},
               {"function", {{"name", call.name}, {"arguments", call.arguments}}}};
    out->push_back(chunk({{"tool_calls", json::array({tc})}}, nullptr));
  }
}

std::vector<json> ChatStream::on_token(const TokenEvent& event) {
  std::vector<json> out;
  const ChatOutputDelta d = parser_.push(event.text);
  if (event.token >= 0 && !d.reasoning.empty() && d.content.empty()) ++reasoning_tokens_;
  if (!d.empty() || !started_) add_delta(d, &out);
  if (completion_.request.logprobs && event.token >= 0 && !out.empty()) {
    json top = json::array();
    for (const auto& [token, lp] : event.top_logprobs) top.push_back({{"token", std::to_string(token)}, {"logprob", lp}});
    out.back()["choices"][0]["logprobs"] = {
        {"content", json::array({{{"token", event.text}, {"logprob", event.logprob}, {"top_logprobs", top}}})}};
  }
  return out;
}

std::vector<json> ChatStream::finish(const GenerationResult& result) {
  std::vector<json> out;
  add_delta(parser_.finish(), &out);
  out.push_back(chunk(json::object(), finish_reason_text(result, tool_calls_ > 0)));
  if (completion_.include_usage) {
    json last;
    last["id"] = id_;
    last["object"] = "chat.completion.chunk";
    last["created"] = created_;
    last["model"] = completion_.model;
    last["choices"] = json::array();
    last["usage"] = usage_body(result, reasoning_tokens_);
    out.push_back(last);
  }
  return out;
}

}  // namespace moestream::api
