// Exact prompt strings of the DeepSeek-V3.1 and V3 chat templates (docs/tokenizer.md, Chat templates).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "text/chat/chat_template.h"

namespace moestream {
namespace {

ChatMessage msg(std::string role, std::optional<std::string> content) {
  ChatMessage m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

ChatMessage tool_calls(std::optional<std::string> content, std::vector<ChatToolCall> calls) {
  ChatMessage m = msg("assistant", std::move(content));
  m.tool_calls = std::move(calls);
  return m;
}

std::string v31(const std::vector<ChatMessage>& messages, ChatTemplateOptions options = {}) {
  auto r = render_deepseek_v31(messages, options);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return *r;
}

std::string v3(const std::vector<ChatMessage>& messages, ChatTemplateOptions options = {}) {
  auto r = render_deepseek_v3(messages, options);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return *r;
}

TEST_CASE("chat template V3.1: non-thinking prompt ends with <｜Assistant｜></think>") {
  CHECK(v31({msg("system", "You are a helpful assistant"), msg("user", "1+1=?")}) ==
        "<｜begin▁of▁sentence｜>You are a helpful assistant<｜User｜>1+1=?<｜Assistant｜></think>");
  // No system prompt: BOS directly followed by the first user turn.
  CHECK(v31({msg("user", "hi")}) == "<｜begin▁of▁sentence｜><｜User｜>hi<｜Assistant｜></think>");
}

TEST_CASE("chat template V3.1: thinking prompt ends with <｜Assistant｜><think>") {
  ChatTemplateOptions thinking;
  thinking.thinking = true;
  CHECK(v31({msg("system", "S"), msg("user", "1+1=?")}, thinking) ==
        "<｜begin▁of▁sentence｜>S<｜User｜>1+1=?<｜Assistant｜><think>");
}

TEST_CASE("chat template V3.1: multi-turn drops earlier reasoning, joins system prompts") {
  ChatMessage answer = msg("assistant", "<think>2 apples</think>Two.");
  answer.reasoning_content = "ignored by the template";
  std::vector<ChatMessage> conversation = {msg("system", "A"), msg("user", "How many?"), answer,
                                           msg("system", "B"), msg("user", "And now?")};
  const std::string history =
      "<｜begin▁of▁sentence｜>A\n\nB<｜User｜>How many?<｜Assistant｜></think>Two.<｜end▁of▁sentence｜>"
      "<｜User｜>And now?<｜Assistant｜>";
  CHECK(v31(conversation) == history + "</think>");
  ChatTemplateOptions thinking;
  thinking.thinking = true;
  CHECK(v31(conversation, thinking) == history + "<think>");
  ChatTemplateOptions no_prompt;
  no_prompt.add_generation_prompt = false;
  CHECK(v31(conversation, no_prompt) ==
        "<｜begin▁of▁sentence｜>A\n\nB<｜User｜>How many?<｜Assistant｜></think>Two.<｜end▁of▁sentence｜>"
        "<｜User｜>And now?");
  // Only the text up to the FIRST </think> is dropped.
  CHECK(v31({msg("user", "q"), msg("assistant", "a</think>b</think>c")}, no_prompt) ==
        "<｜begin▁of▁sentence｜><｜User｜>q<｜Assistant｜></think>b</think>c<｜end▁of▁sentence｜>");
}

TEST_CASE("chat template V3.1: assistant prefix opens <think> only in thinking mode") {
  ChatMessage prefix = msg("assistant", "Let me");
  prefix.prefix = true;
  ChatTemplateOptions thinking;
  thinking.thinking = true;
  CHECK(v31({msg("user", "q"), prefix}, thinking) ==
        "<｜begin▁of▁sentence｜><｜User｜>q<｜Assistant｜><think>Let me<｜end▁of▁sentence｜>");
  CHECK(v31({msg("user", "q"), prefix}) ==
        "<｜begin▁of▁sentence｜><｜User｜>q<｜Assistant｜></think>Let me<｜end▁of▁sentence｜>");
}

TEST_CASE("chat template V3.1: tool definitions, tool calls and tool results") {
  ChatTemplateOptions options;
  options.tools = {{"get_weather", "Get the current weather",
                    R"({"type": "object", "properties": {"city": {"type": "string"}}})"},
                   {"get_time", "Get the time", "{}"}};
  std::vector<ChatMessage> conversation = {
      msg("system", "You are a bot."),
      msg("user", "Weather and time in Paris?"),
      tool_calls(std::nullopt, {{"function", "get_weather", R"({"city": "Paris"})"},
                                {"function", "get_time", R"({"tz": "CET"})"}}),
      msg("tool", "21C"),
      msg("tool", "10:00"),
  };
  const std::string tool_block =
      "## Tools\nYou have access to the following tools:\n\n"
      "### get_weather\nDescription: Get the current weather\n\n"
      "Parameters: {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}\n\n"
      "### get_time\nDescription: Get the time\n\nParameters: {}\n\n"
      "IMPORTANT: ALWAYS adhere to this exact format for tool use:\n"
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>tool_call_name<｜tool▁sep｜>tool_call_arguments"
      "<｜tool▁call▁end｜>{additional_tool_calls}<｜tool▁calls▁end｜>\n\n"
      "Where:\n"
      "- `tool_call_name` must be an exact match to one of the available tools\n"
      "- `tool_call_arguments` must be valid JSON that strictly follows the tool's Parameters Schema\n"
      "- For multiple tool calls, chain them directly without separators or spaces";
  CHECK(deepseek_v31_tool_description(options.tools) == tool_block);
  const std::string calls =
      "<｜User｜>Weather and time in Paris?<｜Assistant｜></think>"
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Paris\"}<｜tool▁call▁end｜>"
      "<｜tool▁call▁begin｜>get_time<｜tool▁sep｜>{\"tz\": \"CET\"}<｜tool▁call▁end｜>"
      "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>"
      "<｜tool▁output▁begin｜>21C<｜tool▁output▁end｜><｜tool▁output▁begin｜>10:00<｜tool▁output▁end｜>";
  // Ends on tool results: no generation prompt, the model continues after them.
  CHECK(v31(conversation, options) ==
        "<｜begin▁of▁sentence｜>You are a bot.\n\n" + tool_block + calls);

  // The answer after the results, then a new user turn; content before calls is kept.
  conversation.push_back(msg("assistant", "Sunny, 21C, 10 am."));
  conversation.push_back(msg("user", "Thanks"));
  conversation.push_back(tool_calls("Checking.", {{"function", "get_time", "{}"}}));
  CHECK(v31(conversation, options) ==
        "<｜begin▁of▁sentence｜>You are a bot.\n\n" + tool_block + calls +
            "Sunny, 21C, 10 am.<｜end▁of▁sentence｜><｜User｜>Thanks<｜Assistant｜></think>Checking."
            "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_time<｜tool▁sep｜>{}<｜tool▁call▁end｜>"
            "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>");
  // Without a system prompt the tool block stands alone after BOS.
  CHECK(v31({msg("user", "x")}, options) ==
        "<｜begin▁of▁sentence｜>" + tool_block + "<｜User｜>x<｜Assistant｜></think>");
}

TEST_CASE("chat template V3: system, multi-turn, </think> stripping") {
  CHECK(v3({msg("system", "S1"), msg("system", "S2"), msg("user", "Hi"),
            msg("assistant", "<think>hmm</think>x</think>Hello!"), msg("user", "Bye")}) ==
        "<｜begin▁of▁sentence｜>S1\n\nS2<｜User｜>Hi<｜Assistant｜>Hello!<｜end▁of▁sentence｜>"
        "<｜User｜>Bye<｜Assistant｜>");
  ChatTemplateOptions no_prompt;
  no_prompt.add_generation_prompt = false;
  CHECK(v3({msg("user", "Hi")}, no_prompt) == "<｜begin▁of▁sentence｜><｜User｜>Hi");
  ChatTemplateOptions thinking;
  thinking.thinking = true;
  CHECK_FALSE(render_deepseek_v3({msg("user", "Hi")}, thinking).ok());
}

TEST_CASE("chat template V3: tool calls with ```json fences and tool outputs") {
  std::vector<ChatMessage> conversation = {
      msg("user", "Weather?"),
      tool_calls(std::nullopt, {{"function", "get_weather", R"({"city": "Paris"})"},
                                {"function", "get_time", "{}"}}),
      msg("tool", "21C"),
      msg("tool", "10:00"),
  };
  const std::string prefix =
      "<｜begin▁of▁sentence｜><｜User｜>Weather?"
      "<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n"
      "```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜>"
      "\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{}\n```<｜tool▁call▁end｜>"
      "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>"
      "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>21C<｜tool▁output▁end｜>"
      "<｜tool▁output▁begin｜>10:00<｜tool▁output▁end｜>";
  // Ends on tool outputs: they are closed and no generation prompt follows.
  CHECK(v3(conversation) == prefix + "<｜tool▁outputs▁end｜>");
  conversation.push_back(msg("assistant", "Sunny."));
  conversation.push_back(msg("user", "More?"));
  // The template's once-per-conversation flags: a later call and a later output get no opener.
  conversation.push_back(tool_calls("Sure.", {{"function", "get_time", "{}"}}));
  conversation.push_back(msg("tool", "11:00"));
  CHECK(v3(conversation) ==
        prefix + "<｜tool▁outputs▁end｜>Sunny.<｜end▁of▁sentence｜><｜User｜>More?"
                 "\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{}\n```<｜tool▁call▁end｜>"
                 "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>"
                 "<｜tool▁output▁begin｜>11:00<｜tool▁output▁end｜><｜tool▁outputs▁end｜>");
}

TEST_CASE("chat messages and tools parse from OpenAI JSON") {
  auto json = nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    {"role": "user", "content": "q"},
    {"role": "assistant", "content": null, "tool_calls": [
      {"id": "1", "type": "function", "function": {"name": "f", "arguments": {"z": 1, "a": [1, 2]}}}]},
    {"role": "tool", "tool_call_id": "1", "content": "r"}])");
  auto messages = chat_messages_from_json(json);
  REQUIRE(messages.ok());
  REQUIRE(messages->size() == 4);
  CHECK((*messages)[0].content == "ab");
  CHECK_FALSE((*messages)[2].content.has_value());
  REQUIRE((*messages)[2].tool_calls.size() == 1);
  CHECK((*messages)[2].tool_calls[0].name == "f");
  CHECK((*messages)[2].tool_calls[0].arguments == R"({"z":1,"a":[1,2]})");

  // Values of the wrong type are errors, not exceptions.
  CHECK_FALSE(chat_messages_from_json(nlohmann::ordered_json::parse(
                  R"([{"role": "user", "content": [{"type": ["text"], "text": "x"}]}])")).ok());
  auto bad = chat_messages_from_json(nlohmann::ordered_json::parse(R"([{"role": "robot", "content": "x"}])"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("messages[0]") != std::string::npos);

  auto tools = chat_tools_from_json(nlohmann::ordered_json::parse(R"([{"type": "function", "function": {
      "name": "get_weather", "description": "d",
      "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "城市 😀"},
                     "days": {"type": "integer", "default": 3, "maximum": 1.5e3}}, "required": ["city"]}}}])"));
  REQUIRE(tools.ok());
  REQUIRE(tools->size() == 1);
  // Python json.dumps: ", " / ": " separators, key order kept, \uXXXX (surrogate pairs) escapes.
  CHECK((*tools)[0].parameters_json ==
        R"({"type": "object", "properties": {"city": {"type": "string", "description": "\u57ce\u5e02 \ud83d\ude00"}, )"
        R"("days": {"type": "integer", "default": 3, "maximum": 1500.0}}, "required": ["city"]})");
}

TEST_CASE("chat template selection") {
  CHECK(detect_chat_template_kind("{% if thinking %}<think>{% endif %}", false) == ChatTemplateKind::kDeepSeekV31);
  CHECK(detect_chat_template_kind("'```json' + tool['function']['arguments']", false) == ChatTemplateKind::kDeepSeekV3);
  CHECK(detect_chat_template_kind("'```json' + tool['function']['arguments']", true) == ChatTemplateKind::kDeepSeekV31);
  CHECK(detect_chat_template_kind("", false) == ChatTemplateKind::kDeepSeekV31);
  CHECK(parse_chat_template_name("v3").value() == ChatTemplateKind::kDeepSeekV3);
  CHECK(parse_chat_template_name("deepseek-v3.1").value() == ChatTemplateKind::kDeepSeekV31);
  CHECK_FALSE(parse_chat_template_name("llama").ok());
}

}  // namespace
}  // namespace moestream
