#include "runtime/model_tokenizer.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "support/nested_json.h"
#include "support/temp_dir.h"

namespace moestream {
namespace {

TEST_CASE("model tokenizer: tokenizer.json or the tokenizer_config.json beside it nested 100,000 levels "
          "deep is an error and a deep chat_template entry finds no template") {
  testing::TempDir dir;
  std::ofstream(dir.file("tokenizer.json")) << testing::nested_arrays(100000);
  auto bad = load_model_tokenizer(dir.file("tokenizer.json"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("nests deeper than") != std::string::npos);

  std::filesystem::copy_file(std::string(MOESTREAM_SOURCE_DIR) + "/third_party/deepseek-v3-tokenizer/tokenizer.json",
                             dir.file("tokenizer.json"), std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir.file("tokenizer_config.json")) << "{\"chat_template\": " + testing::nested_objects(100000) + "}";
  auto deep_config = load_model_tokenizer(dir.file("tokenizer.json"));
  REQUIRE_FALSE(deep_config.ok());
  CHECK(deep_config.status().message().find("tokenizer_config.json nests deeper than") != std::string::npos);
  CHECK(chat_template_from_tokenizer_config("{\"chat_template\": " + testing::nested_arrays(100000) + "}").empty());
  CHECK(chat_template_from_tokenizer_config(R"({"chat_template": "{{ x }}"})") == "{{ x }}");
}

}  // namespace
}  // namespace moestream
