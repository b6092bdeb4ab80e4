// libFuzzer: the schema compiler (text/grammar) must turn any JSON Schema, or any regex
// pattern, into a grammar or a named error, never a crash or a hang; a grammar it accepts
// must then run on the input's bytes (states, distances, completion) without failing.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "platform/json_limits.h"
#include "text/grammar/grammar_automaton.h"
#include "text/grammar/json_schema_grammar.h"
#include "text/grammar/regex_grammar.h"

namespace {

void run(moestream::Grammar g, std::string_view bytes) {
  if (!g.left_recursive_rule().empty()) return;
  moestream::GrammarAutomaton a(std::move(g));
  int32_t s = a.start();
  for (size_t i = 0; i < bytes.size() && i < 512 && s >= 0; ++i) {
    s = a.next(s, static_cast<uint8_t>(bytes[i]));
    if (s >= 0 && a.accepting(s) && a.distance(s) != 0) std::abort();
    if (s >= 0 && a.complete(s) && !a.accepting(s)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] == 'p') {  // a pattern alone
    moestream::Grammar g;
    moestream::JsonTextRules rules(g);
    auto r = moestream::pattern_rule(rules, text);
    if (r.ok()) {
      g.set_root(*r);
      run(std::move(g), text);
    }
    return 0;
  }
  auto j = moestream::parse_json_with_limits(text, moestream::JsonLimits{1 << 16, 32}, "fuzz");
  if (!j.ok()) return 0;
  const nlohmann::ordered_json schema = nlohmann::ordered_json::parse(j->dump());
  auto g = moestream::json_schema_grammar(schema);
  if (!g.ok()) {
    if (g.status().message().empty()) std::abort();  // every refusal says why
    return 0;
  }
  run(std::move(g).value(), text);
  return 0;
}
