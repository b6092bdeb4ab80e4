// The output parser splits reasoning, content and tool calls, the same way whether the text
// arrives whole or one character at a time.
#include <doctest/doctest.h>

#include "text/chat/chat_output_parser.h"

namespace moestream {
namespace {

struct Collected {
  std::string reasoning, content;
  std::vector<ChatToolCall> calls;
};

// Feeds `text` in chunks of `chunk` bytes and gathers the deltas.
Collected stream(std::string_view text, size_t chunk, bool starts_in_reasoning) {
  ChatOutputParser parser(starts_in_reasoning);
  Collected out;
  auto take = [&](ChatOutputDelta d) {
    out.reasoning += d.reasoning;
    out.content += d.content;
    for (auto& c : d.tool_calls) out.calls.push_back(c);
  };
  for (size_t i = 0; i < text.size(); i += chunk) take(parser.push(text.substr(i, chunk)));
  take(parser.finish());
  CHECK(out.reasoning == parser.reasoning_content());
  CHECK(out.content == parser.content());
  CHECK(out.calls.size() == parser.tool_calls().size());
  return out;
}

void check_all_chunkings(std::string_view text, bool starts_in_reasoning, const std::string& reasoning,
                         const std::string& content, const std::vector<std::pair<std::string, std::string>>& calls) {
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, text.size() + 1}) {
    CAPTURE(chunk);
    Collected got = stream(text, chunk, starts_in_reasoning);
    CHECK(got.reasoning == reasoning);
    CHECK(got.content == content);
    REQUIRE(got.calls.size() == calls.size());
    for (size_t i = 0; i < calls.size(); ++i) {
      CHECK(got.calls[i].name == calls[i].first);
      CHECK(got.calls[i].arguments == calls[i].second);
    }
  }
}

TEST_CASE("output parser: thinking mode splits reasoning_content from content") {
  check_all_chunkings("Let me think: 1+1 < 3 </thin k>.</think>The answer is 2.", true,
                      "Let me think: 1+1 < 3 </thin k>.", "The answer is 2.", {});
  // Reasoning that never closes stays reasoning.
  check_all_chunkings("still thinking </thi", true, "still thinking </thi", "", {});
}

TEST_CASE("output parser: non-thinking output is content and a leading <think> opens reasoning") {
  check_all_chunkings("Plain <b>answer</b> with <｜User｜ look-alikes.", false,
                      "", "Plain <b>answer</b> with <｜User｜ look-alikes.", {});
  check_all_chunkings("<think>r</think>c", false, "r", "c", {});
  check_all_chunkings("<thinking>", false, "", "<thinking>", {});
  check_all_chunkings("Done.<｜end▁of▁sentence｜>", false, "", "Done.", {});
}

TEST_CASE("output parser: V3.1 tool calls") {
  check_all_chunkings(
      "Let me check.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"巴黎\"}"
      "<｜tool▁call▁end｜><｜tool▁call▁begin｜>get_time<｜tool▁sep｜>{}<｜tool▁call▁end｜><｜tool▁calls▁end｜>"
      "<｜end▁of▁sentence｜>",
      false, "", "Let me check.", {{"get_weather", "{\"city\": \"巴黎\"}"}, {"get_time", "{}"}});
}

TEST_CASE("output parser: V3 tool calls with ```json fences") {
  Collected got = stream(
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```"
      "<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>f2\n```json\n{}\n```<｜tool▁call▁end｜>"
      "<｜tool▁calls▁end｜>",
      5, false);
  CHECK(got.content.empty());
  REQUIRE(got.calls.size() == 2);
  CHECK(got.calls[0].type == "function");
  CHECK(got.calls[0].name == "get_weather");
  CHECK(got.calls[0].arguments == "{\"city\": \"Paris\"}");
  CHECK(got.calls[1].name == "f2");
  CHECK(got.calls[1].arguments == "{}");
}

TEST_CASE("output parser: an unfinished tool call is kept as content") {
  check_all_chunkings("<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>{\"a\":", false, "",
                      "<｜tool▁call▁begin｜>f<｜tool▁sep｜>{\"a\":", {});
}

TEST_CASE("output parser: deltas are never cut inside a marker") {
  ChatOutputParser parser(true);
  CHECK(parser.push("abc</th").reasoning == "abc");
  ChatOutputDelta d = parser.push("ink>x");
  CHECK(d.reasoning.empty());
  CHECK(d.content == "x");
}

}  // namespace
}  // namespace moestream
