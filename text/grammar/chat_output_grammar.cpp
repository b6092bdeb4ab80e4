#include "text/grammar/chat_output_grammar.h"

#include "text/grammar/json_schema_grammar.h"

namespace moestream {
namespace {

// Any text: every ASCII byte and well-formed UTF-8, no special tokens.
uint32_t free_text(Grammar& g, JsonTextRules& text) {
  return g.star({Grammar::ref(g.rule("text_char", {{g.byte_range(0x00, 0x7F)}, {Grammar::ref(text.utf8_multibyte())}}))},
                "text");
}

}  // namespace

std::string ChatOutputSpec::key() const {
  nlohmann::ordered_json k;
  k["kind"] = kind == ChatTemplateKind::kDeepSeekV3 ? "v3" : "v3.1";
  k["thinking"] = thinking;
  k["json_object"] = json_object;
  k["json_schema"] = json_schema ? *json_schema : nullptr;
  k["tool_choice"] = tool_choice;
  for (const auto& t : tools) k["tools"].push_back({t.name, t.parameters ? *t.parameters : nullptr});
  return k.dump();
}

Result<Grammar> chat_output_grammar(const ChatOutputSpec& spec, const Tokenizer& tokenizer) {
  Grammar g;
  // $ref pointers resolve within the schema they are in: one compiler per schema.
  nlohmann::ordered_json none;
  JsonSchemaCompiler any(g, none);
  const auto special = [&](const char* text) -> Result<GrammarElement> {
    auto id = tokenizer.token_id(text);
    if (!id || tokenizer.added_token(*id) == nullptr) return not_found(std::string("the tokenizer has no ") + text + " token");
    return Grammar::token(*id);
  };

  std::optional<uint32_t> content;  // null: free text
  if (spec.json_schema) {
    JsonSchemaCompiler c(g, *spec.json_schema);
    MOESTREAM_ASSIGN_OR_RETURN(content, c.value(*spec.json_schema));
  } else if (spec.json_object) {
    content = any.any_object(0);
  }

  std::optional<uint32_t> block;
  if (!spec.tools.empty() && spec.tool_choice != "none") {
    MOESTREAM_ASSIGN_OR_RETURN(GrammarElement calls_begin, special("<｜tool▁calls▁begin｜>"));
    MOESTREAM_ASSIGN_OR_RETURN(GrammarElement calls_end, special("<｜tool▁calls▁end｜>"));
    MOESTREAM_ASSIGN_OR_RETURN(GrammarElement call_begin, special("<｜tool▁call▁begin｜>"));
    MOESTREAM_ASSIGN_OR_RETURN(GrammarElement call_end, special("<｜tool▁call▁end｜>"));
    MOESTREAM_ASSIGN_OR_RETURN(GrammarElement sep, special("<｜tool▁sep｜>"));
    std::vector<Grammar::Sequence> calls;
    for (const auto& tool : spec.tools) {
      if (spec.tool_choice != "auto" && spec.tool_choice != "required" && spec.tool_choice != tool.name) continue;
      uint32_t args = 0;
      if (tool.parameters) {
        JsonSchemaCompiler c(g, *tool.parameters);
        auto r = c.value(*tool.parameters);
        if (!r.ok()) return invalid_argument("function '" + tool.name + "' parameters: " + r.status().message());
        args = *r;
      } else {
        args = any.any_object(0);
      }
      Grammar::Sequence call{call_begin};
      if (spec.kind == ChatTemplateKind::kDeepSeekV3) {
        auto head = g.literal("function");
        call.insert(call.end(), head.begin(), head.end());
        call.push_back(sep);
        auto name = g.literal(tool.name + "\n```json\n");
        call.insert(call.end(), name.begin(), name.end());
        call.push_back(Grammar::ref(args));
        auto fence = g.literal("\n```");
        call.insert(call.end(), fence.begin(), fence.end());
      } else {
        auto name = g.literal(tool.name);
        call.insert(call.end(), name.begin(), name.end());
        call.push_back(sep);
        call.push_back(Grammar::ref(args));
      }
      call.push_back(call_end);
      calls.push_back(std::move(call));
    }
    if (calls.empty()) return invalid_argument("tool_choice names no function in tools");
    const uint32_t one = g.rule("tool_call", std::move(calls));
    block = g.rule("tool_calls", {{calls_begin, Grammar::ref(one), Grammar::ref(g.star({Grammar::ref(one)}, "more_calls")), calls_end}});
  }

  std::vector<Grammar::Sequence> answer;
  const bool must_call = block && spec.tool_choice != "auto";
  if (content) {
    if (!must_call) answer.push_back({Grammar::ref(*content)});
  } else {
    Grammar::Sequence text{Grammar::ref(free_text(g, any.text()))};
    if (!must_call) answer.push_back(text);
    if (block) text.push_back(Grammar::ref(*block));
    if (block) answer.push_back(text);
  }
  if (content && block) answer.push_back({Grammar::ref(*block)});
  Grammar::Sequence root;
  if (spec.thinking) {
    MOESTREAM_ASSIGN_OR_RETURN(GrammarElement think_end, special("</think>"));
    root = {Grammar::ref(free_text(g, any.text())), think_end};
  }
  root.push_back(Grammar::ref(g.rule("answer", std::move(answer))));
  g.set_root(g.rule("root", {root}));
  if (!g.left_recursive_rule().empty()) return invalid_argument("$ref: a schema that refers to itself before any value is written");
  return g;
}

}  // namespace moestream
