#include "text/tokenizer/js_regex_translation.h"

#include <doctest/doctest.h>

#include "text/tokenizer/pcre2_regex.h"
#include "text/tokenizer/unicode_classes.h"

namespace moestream {
namespace {

std::vector<std::string> split(const std::string& js_pattern, const std::string& text) {
  auto pattern = translate_js_regex_for_pcre2(js_pattern);
  REQUIRE_MESSAGE(pattern.ok(), pattern.status().to_string());
  auto regex = Pcre2Regex::compile(*pattern);
  REQUIRE_MESSAGE(regex.ok(), regex.status().to_string());
  Pcre2Regex::Scratch scratch(*regex);
  std::vector<std::string_view> pieces;
  regex->split_isolated(text, scratch, &pieces);
  return {pieces.begin(), pieces.end()};
}

using Pieces = std::vector<std::string>;

TEST_CASE("js regex: Unicode classes follow the JavaScript engine's tables") {
  CHECK(split("\\p{N}{1,3}", "ab1234567x٣") == Pieces{"ab", "123", "456", "7", "x", "٣"});
  CHECK(split("\\p{L}+", "héllo wörld") == Pieces{"héllo", " ", "wörld"});
  // JavaScript's \s: U+FEFF and U+3000 are spaces, U+0085 is not (PCRE2 and Rust differ).
  CHECK(split("\\s+", "a\xEF\xBB\xBF" "b\xC2\x85" "c\xE3\x80\x80" "d") ==
        Pieces{"a", "\xEF\xBB\xBF", "b\xC2\x85" "c", "\xE3\x80\x80", "d"});
  // \S in a lookahead, as in the DeepSeek pattern's \s+(?!\S).
  CHECK(split("\\s+(?!\\S)|\\s+", "a   b") == Pieces{"a", "  ", " ", "b"});
  // A Unicode 15 emoji (U+1FAE8) is \p{S} here even though PCRE2 10.42's own tables predate it.
  CHECK(split("[\\p{P}\\p{S}]+", "x\xF0\x9F\xAB\xA8!") == Pieces{"x", "\xF0\x9F\xAB\xA8!"});
  CHECK(split("\\u0041+", "xAAy") == Pieces{"x", "AA", "y"});
  CHECK(split("[^\\p{L}]+", "ab12cd") == Pieces{"ab", "12", "cd"});
}

TEST_CASE("js regex: errors name the problem") {
  auto bad = translate_js_regex_for_pcre2("\\p{Greek}");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("Greek") != std::string::npos);
  CHECK_FALSE(translate_js_regex_for_pcre2("[abc").ok());
  CHECK_FALSE(Pcre2Regex::compile("(unclosed").ok());
}

TEST_CASE("unicode classes: spot checks and complement") {
  auto in = [](std::string_view name, char32_t cp) {
    for (const auto& r : unicode_class_ranges(name)) {
      if (cp >= r.first && cp <= r.last) return true;
    }
    return false;
  };
  CHECK(in("L", U'A'));
  CHECK(in("L", 0x4E00));
  CHECK(in("M", 0x0301));
  CHECK(in("N", 0x0663));
  CHECK(in("P", U'!'));
  CHECK(in("S", U'$'));
  CHECK(in("S", 0x1FAE8));
  CHECK_FALSE(in("L", U'1'));
  CHECK(in("space", 0xFEFF));
  CHECK_FALSE(in("space", 0x0085));
  CHECK(unicode_class_ranges("nope").empty());
  auto complement = complement_ranges(unicode_class_ranges("space"));
  for (const auto& r : complement) {
    CHECK((r.last < 0xD800 || r.first > 0xDFFF));  // surrogates are never in a class
  }
  CHECK_FALSE(unicode_classes_version().empty());
}

}  // namespace
}  // namespace moestream
