#include "platform/progress_bar.h"

#include <doctest/doctest.h>

using namespace moestream;

TEST_CASE("format_bytes picks readable units") {
  CHECK(format_bytes(512) == "512 B");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(format_bytes(44'040'192) == "42.0 MiB");
  CHECK(format_bytes(uint64_t{3} << 30) == "3.0 GiB");
  CHECK(format_bytes(~uint64_t{0}) == "16.0 EiB");
}

TEST_CASE("ProgressBar tolerates overshoot and finishes once") {
  ProgressBar bar("test", 100, "items");
  bar.update(50);
  bar.advance(80);  // clamps at the total
  bar.finish("test: 100 items done");
  bar.finish("ignored");
}
