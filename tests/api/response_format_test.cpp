#include "api/response_format.h"

#include <doctest/doctest.h>

#include <fstream>

#include "api/chat_completion.h"
#include "support/cli_runner.h"
#include "support/mini_model.h"
#include "support/temp_dir.h"

using namespace moestream;
using json = nlohmann::ordered_json;

namespace {

std::unique_ptr<Engine> mini_engine(const std::string& path, bool speculative = false) {
  EngineOptions e;
  e.max_context = 1024;
  e.max_sequences = 16;
  e.speculative_mtp = speculative;
  auto engine = Engine::open(path, e);
  REQUIRE_MESSAGE(engine.ok(), engine.status().to_string());
  return std::move(engine).value();
}

json request(const json& extra) {
  json b = json::parse(R"({"model": "deepseek-chat", "messages": [{"role": "user", "content": "Reply in JSON."}]})");
  for (const auto& [k, v] : extra.items()) b[k] = v;
  return b;
}

}  // namespace

TEST_CASE("response_format: bad shapes are 400, unsupported schemas 422 naming the keyword, checked on arrival") {
  moestream::testing::TempDir dir;
  auto engine = mini_engine(moestream::testing::synth_mini_model(dir));
  const std::tuple<const char*, int, const char*> cases[] = {
      {R"({"response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "integer", "multipleOf": 2}}}})", 422,
       "'response_format.json_schema.schema' unsupported keyword 'multipleOf' at #"},
      {R"({"response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object",
          "properties": {"a": {"type": "string", "format": "uri"}}}}}})", 422, "unsupported format 'uri' at #/properties/a"},
      {R"({"response_format": {"type": "yaml"}})", 422, "response_format.type"},
      {R"({"response_format": "json"})", 400, "response_format"},
      {R"({"response_format": {"type": "json_schema"}})", 400, "response_format.json_schema"},
      {R"({"tools": [{"type": "function", "function": {"name": "f", "strict": true,
          "parameters": {"type": "object", "properties": {"x": {"type": "string", "minLength": 1, "pattern": "a"}}}}}]})", 422,
       "'tools[0].function.parameters' minLength/maxLength together with pattern"},
  };
  for (const auto& [extra, status, text] : cases) {
    CAPTURE(extra);
    auto c = api::parse_chat_completion(request(json::parse(extra)), *engine);
    REQUIRE_FALSE(c.ok());
    CHECK(api::http_status(c.status()) == status);
    CHECK_MESSAGE(c.status().message().find(text) != std::string::npos, c.status().message());
  }
  // Free requests carry no grammar; text is free too.
  CHECK(api::parse_chat_completion(request(json::object()), *engine)->request.grammar == nullptr);
  CHECK(api::parse_chat_completion(request(json::parse(R"({"response_format": {"type": "text"}})")), *engine)->request.grammar == nullptr);
  // Requests with the same schema share one grammar (and its cached masks).
  const json rf = json::parse(R"({"response_format": {"type": "json_object"}})");
  CHECK(api::parse_chat_completion(request(rf), *engine)->request.grammar ==
        api::parse_chat_completion(request(rf), *engine)->request.grammar);
}

TEST_CASE("response_format: a random-weight model's answers all validate, for every schema of the suite, batched") {
  moestream::testing::TempDir dir;
  auto engine = mini_engine(moestream::testing::synth_mini_model(dir));
  const std::string schemas_path = std::string(MOESTREAM_TEST_DATA_DIR) + "/structured_output/schemas.json";
  std::ifstream in(schemas_path);
  const json schemas = json::parse(in);
  struct Run {
    std::string schema;
    api::ChatCompletion completion;
    RequestHandle handle;
  };
  std::vector<Run> runs;
  for (const auto& [name, schema] : schemas.items()) {
    for (int i = 0; i < 4; ++i) {
      json extra = {{"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", name}, {"schema", schema}}}}},
                    {"temperature", 1.0}, {"seed", 100 + i}};
      auto c = api::parse_chat_completion(request(extra), *engine);
      REQUIRE_MESSAGE(c.ok(), name << ": " << c.status().to_string());
      REQUIRE(c->request.grammar != nullptr);
      // Room for the shortest valid answer and some more: the answer must close in time.
      c->request.max_tokens = static_cast<int64_t>(c->request.grammar->distance(c->request.grammar->start())) + 24 + 16 * i;
      runs.push_back({name, std::move(c).value(), {}});
    }
  }
  for (auto& r : runs) r.handle = engine->submit(r.completion.request);
  const std::string outputs = dir.file("answers.jsonl");
  std::ofstream out(outputs, std::ios::binary);
  for (auto& r : runs) {
    const GenerationResult result = r.handle.wait();
    REQUIRE_MESSAGE(result.finish == FinishReason::kStop, r.schema << ": " << result.error.to_string() << " " << result.text);
    const json body = api::chat_completion_body(r.completion, result, "id", 0, {}, engine->tokenizer());
    out << json{{"schema", r.schema}, {"text", body["choices"][0]["message"]["content"]}}.dump() << '\n';
  }
  out.close();
  const moestream::testing::CliResult report = moestream::testing::run_shell(
      "python3 " + std::string(MOESTREAM_SOURCE_DIR) + "/tests/support/validate_json_outputs.py " + schemas_path + " " + outputs);
  MESSAGE(report.output);
  CHECK(report.exit_code == 0);
  CHECK(report.output.find(std::to_string(runs.size()) + " valid, 0 invalid") != std::string::npos);
  CHECK(engine->stats().grammar_masks > 0);
}

TEST_CASE("response_format: JSON mode after thinking, strict tool calls, and no speculation on constrained requests") {
  moestream::testing::TempDir dir;
  const std::string path = moestream::testing::synth_mini_model(dir);
  auto engine = mini_engine(path, /*speculative=*/true);
  for (int seed = 0; seed < 3; ++seed) {
    auto c = api::parse_chat_completion(request({{"model", "deepseek-reasoner"}, {"response_format", {{"type", "json_object"}}},
                                                 {"temperature", 1.0}, {"seed", seed}, {"max_tokens", 96}}),
                                        *engine);
    REQUIRE(c.ok());
    const GenerationResult result = engine->generate(c->request);
    REQUIRE(result.finish == FinishReason::kStop);
    const json body = api::chat_completion_body(*c, result, "id", 0, {}, engine->tokenizer());
    const json answer = json::parse(body["choices"][0]["message"]["content"].get<std::string>(), nullptr, false);
    CHECK_MESSAGE(answer.is_object(), body.dump());
  }
  CHECK(engine->stats().drafts == 0);

  const json tools = json::parse(R"([{"type": "function", "function": {"name": "get_weather", "strict": true,
      "parameters": {"type": "object", "properties": {"location": {"type": "string", "maxLength": 12},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["location", "unit"],
        "additionalProperties": false}}},
    {"type": "function", "function": {"name": "noop", "parameters": {"type": "object"}}}])");
  for (int seed = 0; seed < 6; ++seed) {
    auto c = api::parse_chat_completion(
        request({{"tools", tools}, {"tool_choice", "required"}, {"temperature", 1.0}, {"seed", seed}, {"max_tokens", 120}}), *engine);
    REQUIRE_MESSAGE(c.ok(), c.status().to_string());
    const GenerationResult result = engine->generate(c->request);
    REQUIRE(result.finish == FinishReason::kStop);
    const json body = api::chat_completion_body(*c, result, "id", 0, {}, engine->tokenizer());
    const json& message = body["choices"][0]["message"];
    REQUIRE_MESSAGE(message.contains("tool_calls"), body.dump());
    CHECK(body["choices"][0]["finish_reason"] == "tool_calls");
    for (const auto& call : message["tool_calls"]) {
      const json args = json::parse(call["function"]["arguments"].get<std::string>(), nullptr, false);
      REQUIRE_MESSAGE(args.is_object(), call.dump());
      if (call["function"]["name"] == "get_weather") {
        CHECK(args.size() == 2);
        CHECK(args["location"].is_string());
        CHECK((args["unit"] == "celsius" || args["unit"] == "fahrenheit"));
      } else {
        CHECK(call["function"]["name"] == "noop");
      }
    }
  }
}
