// The structured-output suite: 500 generations per schema for every schema in
// tests/data/structured_output/schemas.json, each token drawn uniformly among those the mask
// allows (noise, like a random-weight model, but harsher: it favours nothing), under varied
// token budgets; then python3-jsonschema, a checker independent of ours, validates them all.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "support/cli_runner.h"
#include "support/temp_dir.h"
#include "text/grammar/grammar_test_support.h"
#include "text/grammar/json_schema_grammar.h"
#include "text/grammar/token_grammar.h"
#include "text/tokenizer/tokenizer_test_support.h"
#include "text/tokenizer/utf8.h"

namespace moestream {
namespace {

using Json = nlohmann::ordered_json;

TEST_CASE("structured output suite: 500 noise generations per schema all validate with python3-jsonschema") {
  std::ifstream in(std::string(MOESTREAM_TEST_DATA_DIR) + "/structured_output/schemas.json");
  const Json schemas = Json::parse(in);
  REQUIRE(schemas.size() >= 20);
  auto trie = std::make_shared<const TokenTrie>(TokenTrie::build(testing::deepseek_tokenizer(), 129280));
  testing::TempDir dir;
  const std::string outputs = dir.file("outputs.jsonl");
  std::ofstream out(outputs, std::ios::binary);
  std::mt19937_64 rng(2026);
  int64_t tokens = 0, multibyte_splits = 0;
  for (const auto& [name, schema] : schemas.items()) {
    auto g = json_schema_grammar(schema);
    REQUIRE_MESSAGE(g.ok(), name << ": " << g.status().to_string());
    TokenGrammar tg(std::move(g).value(), trie, {1});
    const auto shortest = static_cast<int64_t>(tg.distance(tg.start()));
    for (int i = 0; i < 500; ++i) {
      const int64_t budget = shortest + 8 + static_cast<int64_t>(rng() % 160);
      const testing::NoiseAnswer answer = testing::noise_answer(tg, *trie, rng, budget);
      tokens += answer.tokens;
      multibyte_splits += answer.split_characters;
      REQUIRE_MESSAGE(answer.complete, name << " did not complete within " << budget << " tokens: " << answer.text);
      CHECK(utf8::is_valid(answer.text));
      out << Json{{"schema", name}, {"text", answer.text}}.dump() << '\n';
    }
  }
  out.close();
  MESSAGE(tokens << " tokens drawn; " << multibyte_splits << " tokens ended inside a multi-byte character (completed by the next)");
  const testing::CliResult report = testing::run_shell("python3 " + std::string(MOESTREAM_SOURCE_DIR) +
                                                       "/tests/support/validate_json_outputs.py " + std::string(MOESTREAM_TEST_DATA_DIR) +
                                                       "/structured_output/schemas.json " + outputs);
  MESSAGE(report.output);
  CHECK(report.exit_code == 0);
  CHECK(report.output.find("10500 valid, 0 invalid") != std::string::npos);
}

}  // namespace
}  // namespace moestream
