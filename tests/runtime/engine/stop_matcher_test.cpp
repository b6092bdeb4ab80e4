#include "runtime/engine/stop_matcher.h"

#include <doctest/doctest.h>

using namespace moestream;

TEST_CASE("stop strings: text that may start a stop string is held back, a match ends the stream") {
  StopMatcher m({"</end>", "STOP"});
  std::string out;
  for (const char* piece : {"Hello ", "wor", "ld </e", "nd> more"}) out += m.push(piece);
  CHECK(out == "Hello world ");
  CHECK(m.matched());
  CHECK(m.matched_stop() == "</end>");
  CHECK(m.push("x").empty());
}

TEST_CASE("stop strings: a false start is released, the rest comes out at finish") {
  StopMatcher m({"STOP"});
  CHECK(m.push("abc ST") == "abc ");
  CHECK(m.push("AR") == "STAR");
  CHECK(m.push("S") == "");
  CHECK(m.finish() == "S");
  CHECK_FALSE(m.matched());
}

TEST_CASE("stop strings: the earliest match wins and UTF-8 is never split") {
  StopMatcher m({"bb", "ab"});
  CHECK(m.push("xabb") == "x");
  CHECK(m.matched_stop() == "ab");
  StopMatcher u({"\xC3\xA9!"});  // "é!"
  CHECK(u.push("caf\xC3\xA9") == "caf");
  CHECK(u.push("?") == "\xC3\xA9?");
  StopMatcher none({});
  CHECK(none.push("anything") == "anything");
}
