// Known ids of the DeepSeek-V3(.1) tokenizer and the behaviour around added tokens, BOS,
// decoding and streaming. The corpus-wide comparison with the reference implementation is
// tokenizer_differential_test.cpp.
#include "text/tokenizer/tokenizer.h"

#include <doctest/doctest.h>

#include "support/nested_json.h"
#include "text/tokenizer/token_stream_decoder.h"
#include "text/tokenizer/utf8.h"
#include "tests/text/tokenizer/tokenizer_test_support.h"

namespace moestream {
namespace {

using Ids = std::vector<int32_t>;

TEST_CASE("tokenizer: vocabulary, added tokens and the V3.1 renames") {
  const Tokenizer& t = testing::deepseek_tokenizer();
  CHECK(t.id_limit() == 128815);
  CHECK(t.bos_id() == 0);
  CHECK(t.eos_id() == 1);
  CHECK(t.token_id("<｜User｜>") == 128803);
  CHECK(t.token_id("<｜Assistant｜>") == 128804);
  CHECK(t.token_id("<｜search▁begin｜>") == 128796);
  CHECK(t.token_id("<｜search▁end｜>") == 128797);
  CHECK(t.token_id("<think>") == 128798);
  CHECK(t.token_id("</think>") == 128799);
  CHECK(t.token_id("<｜tool▁sep｜>") == 128814);
  CHECK_FALSE(t.is_special(128798));
  CHECK_FALSE(t.is_special(128803));
  CHECK(t.is_special(0));
  CHECK(t.is_special(128805));  // <|EOT|>
  CHECK(t.is_special(128795));  // an unrenamed placeholder
}

TEST_CASE("tokenizer: encode known strings") {
  const Tokenizer& t = testing::deepseek_tokenizer();
  CHECK(t.encode("") == Ids{});
  CHECK(t.encode("héllo <｜User｜>世界 123456\n") == Ids{61538, 61547, 223, 128803, 3427, 223, 6895, 18009, 201});
  // The V3.1 chat prompt openers are single tokens.
  CHECK(t.encode("<｜Assistant｜></think>") == Ids{128804, 128799});
  CHECK(t.encode("<｜Assistant｜><think>") == Ids{128804, 128798});
  // Digits are split in groups of three, left to right.
  Ids digits = t.encode("1234567");
  REQUIRE(digits.size() == 3);
  CHECK(t.decode(Ids{digits[0]}) == "123");
  CHECK(t.decode(Ids{digits[2]}) == "7");
}

TEST_CASE("tokenizer: options for BOS and added-token matching") {
  const Tokenizer& t = testing::deepseek_tokenizer();
  EncodeOptions bos;
  bos.add_bos = true;
  CHECK(t.encode("hi", bos).front() == 0);
  CHECK(t.encode("hi", bos).size() == t.encode("hi").size() + 1);
  EncodeOptions plain;
  plain.match_added_tokens = false;
  Ids as_text = t.encode("<｜User｜>", plain);
  CHECK(as_text.size() > 1);
  CHECK(t.decode(as_text) == "<｜User｜>");
}

TEST_CASE("tokenizer: decode, skip_special_tokens, unknown ids, ill-formed input") {
  const Tokenizer& t = testing::deepseek_tokenizer();
  Ids ids = t.encode("<｜begin▁of▁sentence｜>Hi<think>x</think><｜end▁of▁sentence｜>");
  CHECK(ids.front() == 0);
  CHECK(ids.back() == 1);
  CHECK(t.decode(ids) == "<｜begin▁of▁sentence｜>Hi<think>x</think><｜end▁of▁sentence｜>");
  DecodeOptions skip;
  skip.skip_special_tokens = true;
  CHECK(t.decode(ids, skip) == "Hi<think>x</think>");  // <think> is not special
  CHECK(t.decode(Ids{999999, -1}) == "");
  // Ill-formed UTF-8 is encoded as U+FFFD (what the reference reads), so it decodes to that.
  std::string bad = "ok\xFF\xE2\x82";
  CHECK(t.decode(t.encode(bad)) == utf8::sanitize(bad));
}

TEST_CASE("tokenizer: streaming decode equals batch decode, emoji split across tokens") {
  const Tokenizer& t = testing::deepseek_tokenizer();
  const std::string text = "Family: 👨‍👩‍👧‍👦, flag 🏴󠁧󠁢󠁳󠁣󠁴󠁿, 中文 and 🫨 <｜Assistant｜>done";
  Ids ids = t.encode(text);
  TokenStreamDecoder decoder(t);
  std::string streamed;
  bool held_something = false;
  for (int32_t id : ids) {
    std::string piece = decoder.push(id);
    CHECK(utf8::is_valid(piece));
    if (piece.empty()) held_something = true;
    streamed += piece;
  }
  streamed += decoder.finish();
  CHECK(streamed == text);
  CHECK(held_something);  // some emoji bytes span several tokens
}

TEST_CASE("tokenizer: malformed tokenizer.json gives an error, not a crash") {
  CHECK_FALSE(Tokenizer::from_json("not json").ok());
  CHECK_FALSE(Tokenizer::from_json("{}").ok());
  auto unsupported = Tokenizer::from_json(R"({"model": {"type": "Unigram"}})");
  REQUIRE_FALSE(unsupported.ok());
  CHECK(unsupported.status().message().find("BPE") != std::string::npos);
  CHECK_FALSE(Tokenizer::from_file("/nonexistent/tokenizer.json").ok());
  // Found by fuzz_tokenizer_json: a value of the wrong type used to throw through (abort).
  for (const char* bad : {R"({"model": {"type": ["a b"]}})", R"({"decoder": "ByteLevel"})",
                          R"({"model": {"type": "BPE", "vocab": {}, "merges": [], "byte_fallback": "yes"}})",
                          R"({"normalizer": {"type": 5}})"}) {
    CAPTURE(bad);
    auto r = Tokenizer::from_json(bad);
    CHECK_FALSE(r.ok());
  }
}

TEST_CASE("tokenizer: tokenizer.json or tokenizer_config.json nested 100,000 levels deep is an error") {
  const std::string deep = testing::nested_arrays(100000);
  auto r = Tokenizer::from_json(deep);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("tokenizer.json nests deeper than") != std::string::npos);
  r = Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {}, "merges": []}})", testing::nested_objects(100000));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("tokenizer_config.json nests deeper than") != std::string::npos);
}

}  // namespace
}  // namespace moestream
