// The structured-output suite: 500 generations per schema for every schema in
// tests/data/structured_output/schemas.json, each token drawn uniformly among those the mask
// allows (noise, like a random-weight model, but harsher: it favours nothing), under varied
// token budgets; then python3-jsonschema, a checker independent of ours, validates them all.
#include <doctest/doctest.h>

#include <bit>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "support/temp_dir.h"
#include "text/grammar/json_schema_grammar.h"
#include "text/grammar/token_grammar.h"
#include "text/tokenizer/tokenizer_test_support.h"
#include "text/tokenizer/utf8.h"

namespace moestream {
namespace {

using Json = nlohmann::ordered_json;

int32_t nth_allowed(const std::vector<uint64_t>& mask, uint64_t n) {
  for (size_t w = 0; w < mask.size(); ++w) {
    const auto c = static_cast<uint64_t>(std::popcount(mask[w]));
    if (n < c) {
      uint64_t m = mask[w];
      for (uint64_t k = 0; k < n; ++k) m &= m - 1;
      return static_cast<int32_t>(w * 64 + static_cast<size_t>(std::countr_zero(m)));
    }
    n -= c;
  }
  return -1;
}

TEST_CASE("structured output suite: 500 noise generations per schema all validate with python3-jsonschema") {
  std::ifstream in(std::string(MOESTREAM_TEST_DATA_DIR) + "/structured_output/schemas.json");
  const Json schemas = Json::parse(in);
  REQUIRE(schemas.size() >= 20);
  auto trie = std::make_shared<const TokenTrie>(TokenTrie::build(testing::deepseek_tokenizer(), 129280));
  testing::TempDir dir;
  const std::string outputs = dir.file("outputs.jsonl");
  std::ofstream out(outputs, std::ios::binary);
  std::mt19937_64 rng(2026);
  std::vector<uint64_t> mask;
  int64_t tokens = 0, multibyte_splits = 0;
  for (const auto& [name, schema] : schemas.items()) {
    auto g = json_schema_grammar(schema);
    REQUIRE_MESSAGE(g.ok(), name << ": " << g.status().to_string());
    TokenGrammar tg(std::move(g).value(), trie, {1});
    const auto shortest = static_cast<int64_t>(tg.distance(tg.start()));
    for (int i = 0; i < 500; ++i) {
      const int64_t budget = shortest + 8 + static_cast<int64_t>(rng() % 160);
      std::string text;
      int32_t s = tg.start();
      bool done = false;
      for (int64_t n = 0; n < budget && !done; ++n) {
        tg.allowed(s, budget - n, mask);
        uint64_t count = 0;
        for (uint64_t w : mask) count += static_cast<uint64_t>(std::popcount(w));
        REQUIRE(count > 0);  // the mask never removes every token
        const int32_t t = nth_allowed(mask, rng() % count);
        ++tokens;
        if (tg.is_end_token(t)) break;
        s = tg.advance(s, t);
        REQUIRE(s >= 0);
        const std::string bytes = trie->bytes_of(t);
        // A token that ends inside a multi-byte character: the next one must finish it.
        if (!utf8::is_valid(text + bytes)) ++multibyte_splits;
        text += bytes;
        done = tg.complete(s);
      }
      REQUIRE_MESSAGE(tg.accepting(s), name << " did not complete within " << budget << " tokens: " << text);
      CHECK(utf8::is_valid(text));
      out << Json{{"schema", name}, {"text", text}}.dump() << '\n';
    }
  }
  out.close();
  MESSAGE(tokens << " tokens drawn; " << multibyte_splits << " tokens ended inside a multi-byte character (completed by the next)");
  const std::string command = "python3 " + std::string(MOESTREAM_SOURCE_DIR) + "/tests/support/validate_json_outputs.py " +
                              std::string(MOESTREAM_TEST_DATA_DIR) + "/structured_output/schemas.json " + outputs + " 2>&1";
  FILE* p = popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string report;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) report.append(buf, n);
  const int status = pclose(p);
  MESSAGE(report);
  CHECK(status == 0);
  CHECK(report.find("10500 valid, 0 invalid") != std::string::npos);
}

}  // namespace
}  // namespace moestream
