#include "api/chat_completion.h"

#include <doctest/doctest.h>

#include "support/mini_model.h"
#include "support/temp_dir.h"

using namespace moestream;
using json = nlohmann::ordered_json;

namespace {

std::unique_ptr<Engine> mini_engine(const moestream::testing::TempDir& dir) {
  const std::string path = moestream::testing::synth_mini_model(dir);
  EngineOptions e;
  e.max_context = 512;
  auto engine = Engine::open(path, e);
  REQUIRE_MESSAGE(engine.ok(), engine.status().to_string());
  return std::move(engine).value();
}

json body(const std::string& extra) {
  return json::parse(R"({"model": "deepseek-chat", "messages": [{"role": "user", "content": "hi"}])" + extra + "}");
}

}  // namespace

TEST_CASE("chat completion requests: defaults, thinking switches, and each bad field named") {
  moestream::testing::TempDir dir;
  auto engine = mini_engine(dir);
  auto c = api::parse_chat_completion(body(""), *engine);
  REQUIRE_MESSAGE(c.ok(), c.status().to_string());
  CHECK(c->request.sampling.temperature == 1.0);
  CHECK(c->request.max_tokens == 512);  // DeepSeek's default 4096, capped by the context
  CHECK_FALSE(c->thinking);
  CHECK(api::parse_chat_completion(body(R"(, "model": "deepseek-reasoner")"), *engine)->thinking);
  CHECK(api::parse_chat_completion(body(R"(, "chat_template_kwargs": {"thinking": true})"), *engine)->thinking);
  CHECK_FALSE(api::parse_chat_completion(json::parse(R"({"model": "deepseek-reasoner", "thinking": {"type": "disabled"},
      "messages": [{"role": "user", "content": "hi"}]})"), *engine)->thinking);
  // Thinking mode ends the prompt differently from plain chat.
  CHECK(api::parse_chat_completion(body(R"(, "model": "deepseek-reasoner")"), *engine)->request.prompt !=
        c->request.prompt);
  const std::pair<const char*, const char*> bad[] = {
      {R"(, "temperature": 3)", "temperature"},   {R"(, "top_p": 0)", "top_p"},
      {R"(, "max_tokens": 0)", "max_tokens"},     {R"(, "max_tokens": "many")", "max_tokens"},
      {R"(, "stop": [1])", "stop"},               {R"(, "top_logprobs": 3)", "top_logprobs"},
      {R"(, "logprobs": true, "top_logprobs": 21)", "top_logprobs"},
      {R"(, "frequency_penalty": 2.5)", "frequency_penalty"}, {R"(, "stream": "yes")", "stream"},
      {R"(, "tool_choice": "sometimes")", "tool_choice"},      {R"(, "thinking": {"type": "maybe"})", "thinking"}};
  for (const auto& [extra, field] : bad) {
    CAPTURE(extra);
    auto r = api::parse_chat_completion(body(extra), *engine);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find(field) != std::string::npos);
  }
  CHECK_FALSE(api::parse_chat_completion(json::parse(R"({"messages": []})"), *engine).ok());
  CHECK_FALSE(api::parse_chat_completion(json::parse(R"([1, 2])"), *engine).ok());
  CHECK_FALSE(api::parse_chat_completion(json::parse(R"({"messages": [{"role": "robot", "content": "x"}]})"), *engine).ok());
}

TEST_CASE("chat completion bodies: usage adds up, reasoning split off, finish reasons") {
  moestream::testing::TempDir dir;
  auto engine = mini_engine(dir);
  auto c = api::parse_chat_completion(body(R"(, "model": "deepseek-reasoner")"), *engine);
  REQUIRE(c.ok());
  GenerationResult r;
  r.text = "let me think</think>The answer.";
  r.finish = FinishReason::kStop;
  r.usage = {10, 5, 8, 2};
  const json out = api::chat_completion_body(*c, r, "x1", 123, {}, engine->tokenizer());
  CHECK(out["choices"][0]["message"]["reasoning_content"] == "let me think");
  CHECK(out["choices"][0]["message"]["content"] == "The answer.");
  CHECK(out["choices"][0]["finish_reason"] == "stop");
  CHECK(out["usage"]["total_tokens"] == 15);
  CHECK(out["usage"]["prompt_cache_hit_tokens"] == 8);
  CHECK(out["usage"]["prompt_tokens_details"]["cached_tokens"] == 8);
  r.finish = FinishReason::kLength;
  CHECK(api::chat_completion_body(*c, r, "x1", 123, {}, nullptr)["choices"][0]["finish_reason"] == "length");
}
