#include "interop/safetensors_file.h"

#include <doctest/doctest.h>

#include <fstream>

#include "support/temp_dir.h"

namespace moestream {
namespace {

std::string with_length(const std::string& json, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + json + data;
}

Result<SafetensorsFile> open_bytes(const testing::TempDir& dir, const std::string& bytes) {
  const std::string path = dir.file("t.safetensors");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return SafetensorsFile::open(path);
}

TEST_CASE("safetensors header round-trips through encode and parse") {
  testing::TempDir dir;
  std::vector<SafetensorsEntry> entries = {{"a.weight", DType::kBF16, {2, 3}, 0, 12},
                                           {"b.bias", DType::kF32, {2}, 12, 8}};
  std::string bytes = encode_safetensors_header(entries, {{"format", "pt"}}) + std::string(20, 'x');
  auto f = open_bytes(dir, bytes);
  REQUIRE_MESSAGE(f.ok(), f.status().to_string());
  REQUIRE(f->entries().size() == 2);
  const SafetensorsEntry* a = f->find("a.weight");
  REQUIRE(a);
  CHECK(a->dtype == DType::kBF16);
  CHECK(a->shape == std::vector<int64_t>{2, 3});
  CHECK((a->offset - 8) % 8 == 0);  // header padded so data starts aligned
  CHECK(f->metadata().at("format") == "pt");
  std::string data(12, '\0');
  REQUIRE(f->read(*a, data.data()).ok());
  CHECK(data == std::string(12, 'x'));
}

TEST_CASE("safetensors header with out-of-range offsets names the file and tensor") {
  testing::TempDir dir;
  auto f = open_bytes(dir, with_length(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", "short"));
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().code() == ErrorCode::kCorrupt);
  CHECK(f.status().message().find("t.safetensors") != std::string::npos);
  CHECK(f.status().message().find("\"w\"") != std::string::npos);
  CHECK(f.status().message().find("out of range") != std::string::npos);
}

TEST_CASE("safetensors header rejects inconsistent or malformed entries") {
  testing::TempDir dir;
  const std::string data(64, '\0');
  const char* bad[] = {
      R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[8,4]}})",              // begin > end
      R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})",             // size != shape
      R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,16]}})",            // negative dim
      R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0]}})",                // one offset
      R"({"w":{"dtype":"F32","shape":[4]}})",                                   // none
      R"({"w":{"shape":[4],"data_offsets":[0,16]}})",                           // no dtype
      R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}})",  // overflow
      R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
      R"({"w":[1,2]})",
      R"([1,2,3])",
      R"({"w":{"dtype":"F32",)",
      R"({"__metadata__":{"format":3}})",
  };
  for (const char* json : bad) {
    auto f = open_bytes(dir, with_length(json, data));
    CHECK_MESSAGE(!f.ok(), json);
    if (!f.ok()) CHECK(f.status().message().find("t.safetensors") != std::string::npos);
  }
  auto unknown = open_bytes(dir, with_length(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", data));
  CHECK(unknown.status().code() == ErrorCode::kUnsupported);
}

TEST_CASE("safetensors header length larger than the file is rejected") {
  testing::TempDir dir;
  std::string bytes = with_length("{}", "");
  bytes[0] = 100;
  auto f = open_bytes(dir, bytes);
  CHECK(f.status().code() == ErrorCode::kCorrupt);
  CHECK(open_bytes(dir, "abc").status().code() == ErrorCode::kCorrupt);
}

}  // namespace
}  // namespace moestream
