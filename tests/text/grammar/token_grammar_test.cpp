#include "text/grammar/token_grammar.h"

#include <doctest/doctest.h>

#include <bit>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "text/grammar/grammar_test_support.h"
#include "text/grammar/json_schema_grammar.h"
#include "text/tokenizer/tokenizer_test_support.h"
#include "text/tokenizer/utf8.h"

namespace moestream {
namespace {

constexpr int64_t kVocab = 129280;

std::shared_ptr<const TokenTrie> deepseek_trie() {
  static auto trie = std::make_shared<const TokenTrie>(TokenTrie::build(testing::deepseek_tokenizer(), kVocab));
  return trie;
}

int32_t byte_token(const TokenTrie& trie, uint8_t b) {
  for (int32_t id = 0; id < kVocab; ++id) {
    if (trie.bytes_of(id) == std::string(1, static_cast<char>(b))) return id;
  }
  FAIL("no token for byte " << int(b));
  return -1;
}

bool bit(const std::vector<uint64_t>& m, int32_t t) { return (m[static_cast<size_t>(t) >> 6] >> (t & 63)) & 1; }

TEST_CASE("token trie: every plain token is in it once, with its bytes") {
  const auto& tok = testing::deepseek_tokenizer();
  const auto trie = deepseek_trie();
  size_t plain = 0;
  for (int32_t id = 0; id < tok.id_limit(); ++id) {
    if (tok.added_token(id) != nullptr || tok.token_bytes(id).empty()) continue;
    ++plain;
    if (id % 97 == 0) CHECK(trie->bytes_of(id) == tok.token_bytes(id));
  }
  CHECK(trie->token_count() == plain);
  CHECK(plain > 127000);
  const std::string_view toy[] = {"a", "ab", "", "b", "abc", "ab"};
  TokenTrie t = TokenTrie::from_strings(toy);
  CHECK(t.size() == 4);  // a, ab, abc, b
  CHECK(t.tokens_at(1).size() == 2);
  CHECK(t.end(0) == 3);
}

TEST_CASE("token grammar: the mask allows exactly the tokens that continue the output, end tokens only where it may end") {
  const auto trie = deepseek_trie();
  const int32_t eos = 1;
  TokenGrammar tg(json_object_grammar(), trie, {eos});
  GrammarAutomaton check(json_object_grammar());
  std::vector<uint64_t> mask;
  // From the start and after a few prefixes: allowed iff the token's bytes keep the text valid.
  for (const std::string prefix : {"", "{\"k", "{\"k\": [1", "{\"k\": \"\xE6\x97"}) {
    int32_t s = tg.start();
    for (char c : prefix) {
      s = check.next(s, static_cast<uint8_t>(c));
      REQUIRE(s >= 0);
    }
    // The states of `check` and `tg` are numbered alike only by chance: replay through tg.
    int32_t ts = tg.start();
    // One token per byte: the encoder would replace the unfinished UTF-8 at the end.
    std::vector<int32_t> ids;
    for (char c : prefix) ids.push_back(byte_token(*trie, static_cast<uint8_t>(c)));
    bool replay_ok = true;
    for (int32_t id : ids) replay_ok = replay_ok && (ts = tg.advance(ts, id)) >= 0;
    REQUIRE_MESSAGE(replay_ok, prefix);
    tg.allowed(ts, -1, mask);
    int64_t allowed = 0;
    for (int32_t id = 0; id < kVocab; ++id) {
      const std::string bytes = trie->bytes_of(id);
      const bool valid = !bytes.empty() && check.advance(s, bytes.data(), bytes.size()) >= 0;
      if (bit(mask, id) != valid && id != eos) FAIL_CHECK("token " << id << " after '" << prefix << "'");
      allowed += bit(mask, id);
    }
    CHECK(allowed > 0);
    CHECK_FALSE(bit(mask, eos));
  }
  const int32_t done = tg.advance(tg.advance(tg.start(), testing::deepseek_tokenizer().encode("{")[0]),
                                  testing::deepseek_tokenizer().encode("}")[0]);
  REQUIRE(done >= 0);
  CHECK(tg.complete(done));
  tg.allowed(done, -1, mask);
  CHECK(bit(mask, eos));
  CHECK(std::accumulate(mask.begin(), mask.end(), int64_t{0}, [](int64_t a, uint64_t w) { return a + std::popcount(w); }) == 1);
}

TEST_CASE("token grammar: random tokens under the mask always give a complete JSON object within the budget") {
  const auto trie = deepseek_trie();
  TokenGrammar tg(json_object_grammar(), trie, {1});
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100; ++i) {
    const int64_t budget = 8 + i % 64;
    const testing::NoiseAnswer answer = testing::noise_answer(tg, *trie, rng, budget);
    const std::string& text = answer.text;
    REQUIRE_MESSAGE(answer.complete, text);
    CHECK(utf8::is_valid(text));
    const auto parsed = nlohmann::json::parse(text, nullptr, false);
    REQUIRE_MESSAGE(!parsed.is_discarded(), text);
    CHECK(parsed.is_object());
  }
  const TokenGrammarStats st = tg.stats();
  MESSAGE("masks " << st.masks << ", cache hits " << st.cache_hits << ", trie walks " << st.trie_walks << ", states " << st.states);
  CHECK(st.cache_hits > 0);
}

}  // namespace
}  // namespace moestream

namespace moestream {
namespace {

TEST_CASE("token grammar: a grammar whose automaton outgrows its state limit stops masking instead of growing") {
  const auto trie = deepseek_trie();
  auto g = json_schema_grammar(nlohmann::ordered_json::parse(
      R"({"type":"object","properties":{"s":{"type":"string","pattern":"^.{0,1000}x.{0,1000}$"}},"required":["s"]})"));
  REQUIRE(g.ok());
  TokenGrammar tg(std::move(g).value(), trie, {1}, /*max_states=*/3000);
  std::vector<float> logits(static_cast<size_t>(kVocab));
  std::mt19937_64 rng(1);
  int32_t s = tg.start();
  int64_t result = 0;
  for (int n = 0; n < 2000 && result >= 0; ++n) {
    std::fill(logits.begin(), logits.end(), 0.0f);
    result = tg.mask_logits(s, -1, logits);
    if (result < 0) break;
    REQUIRE(result > 0);
    std::vector<int32_t> ids;
    for (int32_t i = 0; i < kVocab; ++i) {
      if (logits[static_cast<size_t>(i)] == 0.0f && !tg.is_end_token(i)) ids.push_back(i);
    }
    s = tg.advance(s, ids[rng() % ids.size()]);
    REQUIRE(s >= 0);
  }
  CHECK(result == -1);
  CHECK(tg.stats().states > 3000);
  CHECK(tg.stats().states < 3000 + 300000);  // at most one walk past the limit
}

}  // namespace
}  // namespace moestream
