#include "text/tokenizer/utf8.h"

#include <doctest/doctest.h>

namespace moestream {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST_CASE("utf8: ill-formed input becomes U+FFFD per maximal subpart") {
  CHECK(utf8::is_valid("plain ascii"));
  CHECK(utf8::is_valid("é世😀"));
  CHECK_FALSE(utf8::is_valid("\xC0\xAF"));
  CHECK(utf8::sanitize("a\xFF" "b") == "a" + kFffd + "b");
  // A truncated 3-byte sequence is one maximal subpart: one U+FFFD.
  CHECK(utf8::sanitize("\xE2\x82" "x") == kFffd + "x");
  // Overlong, surrogate, and above U+10FFFF: every byte is its own subpart.
  CHECK(utf8::sanitize("\xC0\xAF") == kFffd + kFffd);
  CHECK(utf8::sanitize("\xED\xA0\x80") == kFffd + kFffd + kFffd);
  CHECK(utf8::sanitize("\xF4\x90\x80\x80") == kFffd + kFffd + kFffd + kFffd);
  CHECK(utf8::sanitize("\xF0\x9F\x98") == kFffd);
  CHECK(utf8::sanitize("\x80\xBF") == kFffd + kFffd);
  CHECK(utf8::sanitize("") == "");
}

TEST_CASE("utf8: incomplete tail detection") {
  auto tail = [](std::string_view s) {
    return utf8::incomplete_tail_length(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  CHECK(tail("abc") == 0);
  CHECK(tail("ab\xE4") == 1);
  CHECK(tail("ab\xE4\xB8") == 2);
  CHECK(tail("ab\xE4\xB8\x96") == 0);  // complete
  CHECK(tail("\xF0\x9F\x98") == 3);
  CHECK(tail("\xE0\x80") == 0);  // can never become valid
  CHECK(tail("\xFF") == 0);
}

TEST_CASE("utf8: code point encode/decode round trip") {
  for (char32_t cp : {0x0u, 0x41u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    std::string s;
    utf8::append_code_point(cp, &s);
    char32_t back = 0;
    CHECK(utf8::decode_one(reinterpret_cast<const uint8_t*>(s.data()), s.size(), &back) == s.size());
    CHECK(back == cp);
  }
}

}  // namespace
}  // namespace moestream
