#include "interop/hf_converter.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "interop/hf_checkpoint.h"
#include "support/golden_fixture.h"
#include "support/nested_json.h"

namespace moestream {
namespace {

namespace fs = std::filesystem;

// A copy of a golden checkpoint whose shards are symlinks and whose config.json can be edited.
struct EditableCheckpoint {
  testing::TempDir dir;
  std::string path;
  explicit EditableCheckpoint(const std::string& variant) {
    path = dir.file("ck");
    fs::create_directories(path);
    for (const auto& entry : fs::directory_iterator(testing::golden_dir(variant))) {
      const std::string name = entry.path().filename().string();
      if (name == "config.json") {
        fs::copy_file(entry.path(), path + "/" + name);
      } else {
        fs::create_symlink(fs::absolute(entry.path()), path + "/" + name);
      }
    }
  }
  void edit_config(const std::string& from, const std::string& to) {
    auto text = read_text_file(path + "/config.json");
    REQUIRE(text.ok());
    const size_t at = text->find(from);
    REQUIRE(at != std::string::npos);
    std::string edited = text->replace(at, from.size(), to);
    std::ofstream(path + "/config.json", std::ios::trunc) << edited;
  }
  Status convert() {
    ConvertOptions options;
    options.progress = false;
    auto s = convert_hf_checkpoint(path, out(), options);
    return s.ok() ? ok_status() : s.status();
  }
  std::string out() const { return dir.file("out.mst"); }
  bool no_output() const { return !fs::exists(out()) && !fs::exists(out() + ".partial"); }
};

TEST_CASE("convert records provenance and embeds the built-in tokenizer when the checkpoint has none") {
  testing::TempDir dir;
  auto reader = ContainerReader::open(testing::convert_golden(dir, "bf16"));
  REQUIRE(reader.ok());
  CHECK((*reader)->tokenizer_json().find("\"model\"") != std::string::npos);
  auto inspect_weight = (*reader)->tensor("model.layers.0.mlp.gate_proj.weight");
  REQUIRE(inspect_weight.ok());
  CHECK(inspect_weight->dtype == DType::kBF16);
  CHECK(inspect_weight->scale_format == ScaleFormat::kNone);
  CHECK(fs::exists(dir.file("bf16.mst")));
  CHECK_FALSE(fs::exists(dir.file("bf16.mst.partial")));
}

TEST_CASE("convert fails cleanly when a shard is missing") {
  EditableCheckpoint ck("fp8-v3");
  fs::remove(ck.path + "/model-00003-of-000004.safetensors");
  Status s = ck.convert();
  CHECK(s.code() == ErrorCode::kNotFound);
  CHECK(s.message().find("model-00003-of-000004.safetensors") != std::string::npos);
  CHECK(s.message().find("tensor") != std::string::npos);
  CHECK(ck.no_output());
}

TEST_CASE("convert rejects a tensor shape that contradicts config.json") {
  EditableCheckpoint ck("fp8-v3");
  ck.edit_config("\"moe_intermediate_size\": 128", "\"moe_intermediate_size\": 64");
  Status s = ck.convert();
  CHECK(s.code() == ErrorCode::kInvalidArgument);
  CHECK(s.message().find("config.json implies") != std::string::npos);
  CHECK(s.message().find(".safetensors: tensor \"model.layers.") != std::string::npos);
  CHECK(ck.no_output());
}

TEST_CASE("convert rejects a dtype that contradicts config.json") {
  EditableCheckpoint fp8("fp8-v3");
  fp8.edit_config("\"quant_method\": \"fp8\"", "\"quant_method_removed\": \"fp8\"");
  // Without quant_method the config is not FP8, yet the linear weights are F8_E4M3.
  Status s = fp8.convert();
  CHECK(s.code() == ErrorCode::kInvalidArgument);
  CHECK(s.message().find("F8_E4M3") != std::string::npos);
  CHECK(fp8.no_output());

  EditableCheckpoint bf16("bf16");
  bf16.edit_config("\"rms_norm_eps\"",
                   "\"quantization_config\": {\"quant_method\": \"fp8\", \"weight_block_size\": [128, 128]},\n  "
                   "\"rms_norm_eps\"");
  s = bf16.convert();
  CHECK(s.code() == ErrorCode::kInvalidArgument);
  CHECK(s.message().find("is BF16 but config.json says the checkpoint is FP8") != std::string::npos);
  CHECK(bf16.no_output());
}

TEST_CASE("convert rejects a safetensors shard whose header points past its end") {
  EditableCheckpoint ck("fp8-v3");
  const std::string shard = ck.path + "/model-00002-of-000004.safetensors";
  const std::string target = fs::read_symlink(shard).string();
  fs::remove(shard);
  fs::copy_file(target, shard);
  fs::resize_file(shard, fs::file_size(shard) - 4096);
  Status s = ck.convert();
  CHECK(s.code() == ErrorCode::kCorrupt);
  CHECK(s.message().find("model-00002-of-000004.safetensors") != std::string::npos);
  CHECK(s.message().find("out of range") != std::string::npos);
  CHECK(ck.no_output());
}

TEST_CASE("convert reports a bad config.json with its path") {
  EditableCheckpoint ck("fp8-v3");
  ck.edit_config("\"hidden_size\": 256", "\"hidden_size\": \"big\"");
  Status s = ck.convert();
  CHECK(s.code() == ErrorCode::kInvalidArgument);
  CHECK(s.message().find("config.json") != std::string::npos);
  CHECK(s.message().find("hidden_size") != std::string::npos);
}

TEST_CASE("a checkpoint whose config.json or index nests 100,000 levels deep is an error, not a crash") {
  for (const char* name : {"config.json", "model.safetensors.index.json", "tokenizer_config.json"}) {
    CAPTURE(name);
    EditableCheckpoint ck("fp8-v3");
    fs::remove(ck.path + "/" + name);
    std::ofstream(ck.path + "/" + name) << "{\"weight_map\": " + testing::nested_arrays(100000) + "}";
    Status s = ck.convert();
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find(name) != std::string::npos);
    CHECK(s.message().find("nests deeper than") != std::string::npos);
    CHECK(ck.no_output());
  }
}

}  // namespace
}  // namespace moestream
