#include "text/tokenizer/utf8_stream_decoder.h"

#include <doctest/doctest.h>

#include <random>

#include "text/tokenizer/utf8.h"

namespace moestream {
namespace {

TEST_CASE("utf8 stream decoder: holds an incomplete character until it is complete") {
  Utf8StreamDecoder d;
  CHECK(d.push("a\xF0\x9F") == "a");
  CHECK(d.has_pending());
  CHECK(d.push("\x98") == "");
  CHECK(d.push("\x80" "b") == "😀b");
  CHECK(d.finish() == "");
  CHECK(d.push("\xE4\xB8") == "");
  CHECK(d.finish() == "\xEF\xBF\xBD");  // the stream ended inside a character
}

TEST_CASE("utf8 stream decoder: any chunking gives the lossy decode of the whole stream") {
  std::mt19937 rng(7);
  const std::string pieces[] = {"a", "é", "世", "😀", "\xFF", "\xE2\x82", "\xF0\x9F\x98", "\x80", "\xC3", " ", "\xED\xA0\x80"};
  for (int trial = 0; trial < 300; ++trial) {
    std::string bytes;
    for (int i = 0; i < 20; ++i) bytes += pieces[rng() % std::size(pieces)];
    Utf8StreamDecoder d;
    std::string out;
    for (size_t i = 0; i < bytes.size();) {
      size_t n = 1 + rng() % 4;
      out += d.push(std::string_view(bytes).substr(i, n));
      i += n;
    }
    out += d.finish();
    CHECK(out == utf8::sanitize(bytes));
  }
}

}  // namespace
}  // namespace moestream
