#include "../../tools/moestream/arg_parser.h"

#include <doctest/doctest.h>

using namespace moestream::cli;

TEST_CASE("token lists and byte sizes parse") {
  CHECK(parse_token_list("0 309 12").value() == std::vector<int32_t>{0, 309, 12});
  CHECK(parse_token_list("[0,1, 2]").value() == std::vector<int32_t>{0, 1, 2});
  CHECK_FALSE(parse_token_list("0 x").has_value());
  CHECK_FALSE(parse_token_list("-3").has_value());
  CHECK(parse_byte_size("16G").value() == 16ull << 30);
  CHECK(parse_byte_size("512MiB").value() == 512ull << 20);
  CHECK(parse_byte_size("100").value() == 100);
  CHECK_FALSE(parse_byte_size("12Q").has_value());
}

TEST_CASE("comma lists: items trimmed, counts within their range, the first bad item named") {
  using moestream::cli::parse_count_list;
  using moestream::cli::split_list;
  CHECK(split_list(" lru, lfu ,,arc") == std::vector<std::string>{"lru", "lfu", "arc"});
  std::string bad;
  CHECK(*parse_count_list("1, 4,16", 64, &bad) == std::vector<int64_t>{1, 4, 16});
  for (const char* text : {"1,0", "1,65", "4abc", "1,-2", "99999999999999999999"}) {
    CAPTURE(text);
    CHECK_FALSE(parse_count_list(text, 64, &bad).has_value());
    CHECK_FALSE(bad.empty());
  }
  parse_count_list("2,4abc,8", 64, &bad);
  CHECK(bad == "4abc");
}
