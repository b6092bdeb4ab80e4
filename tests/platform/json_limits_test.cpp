#include "platform/json_limits.h"

#include <doctest/doctest.h>

#include "support/nested_json.h"

namespace moestream {
namespace {

TEST_CASE("json limits: 100,000 nesting levels are refused before the parser sees them") {
  for (const std::string& text : {testing::nested_arrays(100000), testing::nested_objects(100000)}) {
    auto j = parse_json_with_limits(text, JsonLimits{}, "request");
    REQUIRE_FALSE(j.ok());
    CHECK(j.status().code() == ErrorCode::kInvalidArgument);
    CHECK(j.status().message().find("request nests deeper than 128 levels") != std::string::npos);
    auto o = parse_json_with_limits<nlohmann::ordered_json>(text, JsonLimits{}, "request");
    CHECK_FALSE(o.ok());
  }
}

TEST_CASE("json limits: depth exactly at the limit parses, one more does not") {
  const JsonLimits limits{1 << 20, 8};
  CHECK(parse_json_with_limits(testing::nested_arrays(8), limits, "x").ok());
  CHECK_FALSE(parse_json_with_limits(testing::nested_arrays(9), limits, "x").ok());
  CHECK(parse_json_with_limits(testing::nested_objects(8), limits, "x").ok());
  CHECK_FALSE(parse_json_with_limits(testing::nested_objects(9), limits, "x").ok());
}

TEST_CASE("json limits: brackets inside strings do not count, escapes are followed") {
  const JsonLimits limits{1 << 20, 2};
  auto j = parse_json_with_limits(R"({"a": "[[[[{{{{\"[[[[\\", "b": [1]})", limits, "x");
  REQUIRE_MESSAGE(j.ok(), j.status().to_string());
  CHECK((*j)["a"] == "[[[[{{{{\"[[[[\\");
  CHECK(check_json_limits(R"(["\\", [[1]]])", limits, "x").code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("json limits: objects with too many members are refused (ordered_json parses them in quadratic time)") {
  JsonLimits limits;
  limits.max_object_members = 3;
  CHECK(parse_json_with_limits(R"({"a": 1, "b": {"c": 1, "d": 2, "e": ":::"}, "f": [1, 2, 3, 4, 5]})", limits, "x").ok());
  auto wide = parse_json_with_limits(R"({"a": 1, "b": 2, "c": 3, "d": 4})", limits, "body");
  REQUIRE_FALSE(wide.ok());
  CHECK(wide.status().message() == "body has an object with more than 3 members (at byte 28)");
  CHECK_FALSE(parse_json_with_limits(R"([{"a": {"b": 1, "c": 2, "d": 3, "e": 4}}])", limits, "x").ok());
  std::string request = R"({"messages": [{"role": "user", "content": "hi"}])";
  for (int i = 0; i < 5000; ++i) request += ", \"k" + std::to_string(i) + "\": 0";
  request += "}";
  auto chat = parse_json_with_limits<nlohmann::ordered_json>(request, json_limits::kChatRequest, "--messages");
  REQUIRE_FALSE(chat.ok());
  CHECK(chat.status().message().find("more than 4096 members") != std::string::npos);
}

TEST_CASE("json limits: size limit, invalid JSON and an empty text") {
  const JsonLimits limits{10, 8};
  auto big = parse_json_with_limits("[1,2,3,4,5,6]", limits, "body");
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().message() == "body is too large: 13 bytes, the limit is 10");
  auto bad = parse_json_with_limits("[1,", limits, "body");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "body is not valid JSON");
  CHECK_FALSE(parse_json_with_limits("", limits, "body").ok());
  // Unbalanced closing brackets are the parser's problem, not an underflow of the scan.
  CHECK(check_json_limits("]]]]{", limits, "x").ok());
}

}  // namespace
}  // namespace moestream
