#include "interop/hf_exporter.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "interop/hf_checkpoint.h"
#include "support/golden_fixture.h"

namespace moestream {
namespace {

// Every tensor of `a` exists in `b` with the same dtype, shape and bytes, and vice versa.
void check_same_tensors(const HfCheckpoint& a, const HfCheckpoint& b) {
  REQUIRE(a.tensors().size() == b.tensors().size());
  std::vector<uint8_t> x, y;
  for (const auto& [name, ra] : a.tensors()) {
    const HfTensorRef* rb = b.find(name);
    REQUIRE_MESSAGE(rb != nullptr, name);
    CHECK_MESSAGE(ra.entry->dtype == rb->entry->dtype, name);
    CHECK_MESSAGE(ra.entry->shape == rb->entry->shape, name);
    REQUIRE(ra.entry->size == rb->entry->size);
    x.resize(ra.entry->size);
    y.resize(rb->entry->size);
    REQUIRE(ra.shard->read(*ra.entry, x.data()).ok());
    REQUIRE(rb->shard->read(*rb->entry, y.data()).ok());
    CHECK_MESSAGE(x == y, name);
  }
}

void round_trip(const std::string& variant, BlobCompression compression) {
  testing::TempDir dir;
  const std::string mst = testing::convert_golden(dir, variant, compression);
  auto reader = ContainerReader::open(mst, {.verify_checksums = true});
  REQUIRE_MESSAGE(reader.ok(), reader.status().to_string());
  ExportOptions options;
  options.progress = false;
  auto summary = export_hf_checkpoint(**reader, dir.file("hf"), options);
  REQUIRE_MESSAGE(summary.ok(), summary.status().to_string());
  auto source = HfCheckpoint::open(testing::golden_dir(variant));
  auto exported = HfCheckpoint::open(dir.file("hf"));
  REQUIRE(source.ok());
  REQUIRE_MESSAGE(exported.ok(), exported.status().to_string());
  check_same_tensors(**source, **exported);
  CHECK((*exported)->config_json() == (*source)->config_json());
  CHECK(!(*exported)->tokenizer_json().empty());
}

TEST_CASE("export-hf gives back byte-identical tensors for fp8-v3") {
  round_trip("fp8-v3", BlobCompression::kNone);
}

TEST_CASE("export-hf gives back byte-identical tensors for fp8-v31-ue8m0") {
  round_trip("fp8-v31-ue8m0", BlobCompression::kNone);
}

TEST_CASE("export-hf gives back byte-identical tensors for bf16") {
  round_trip("bf16", BlobCompression::kNone);
}

TEST_CASE("export-hf from a zstd-compressed container gives back byte-identical tensors") {
  round_trip("fp8-v31-ue8m0", BlobCompression::kZstd);
}

TEST_CASE("a failed export-hf leaves the output directory as it was") {
  testing::TempDir dir;
  const std::string mst = testing::convert_golden(dir, "fp8-v31-ue8m0", BlobCompression::kZstd);
  {
    // Garble the compressed blob of the last expert of the last layer, so the export fails
    // late, after other shards are complete.
    auto reader = ContainerReader::open(mst, {});
    REQUIRE(reader.ok());
    const int64_t layers = (*reader)->config().num_hidden_layers;
    const int64_t experts = (*reader)->config().n_routed_experts;
    auto blob = (*reader)->expert_blob(layers - 1, experts - 1);
    REQUIRE(blob.ok());
    std::FILE* f = std::fopen(mst.c_str(), "r+b");
    REQUIRE(f != nullptr);
    std::fseek(f, static_cast<long>(blob->offset), SEEK_SET);
    const std::vector<uint8_t> junk(static_cast<size_t>(blob->stored_size), 0xa5);
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
  }
  auto reader = ContainerReader::open(mst, {});
  REQUIRE(reader.ok());
  ExportOptions options;
  options.progress = false;

  // A directory that did not exist is not left behind.
  auto fresh = export_hf_checkpoint(**reader, dir.file("fresh"), options);
  REQUIRE_FALSE(fresh.ok());
  CHECK(fresh.status().to_string().find("does not decompress") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("fresh")));
  CHECK_FALSE(std::filesystem::exists(dir.file("fresh.partial")));

  // An existing one keeps exactly what it had, including a file the export would replace.
  std::filesystem::create_directories(dir.file("old"));
  { std::ofstream(dir.file("old/config.json")) << "mine"; }
  auto old = export_hf_checkpoint(**reader, dir.file("old"), options);
  REQUIRE_FALSE(old.ok());
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(dir.file("old"))) left.push_back(e.path().filename().string());
  CHECK(left == std::vector<std::string>{"config.json"});
  std::ifstream in(dir.file("old/config.json"));
  std::string text;
  in >> text;
  CHECK(text == "mine");
  CHECK_FALSE(std::filesystem::exists(dir.file("old.partial")));
}

}  // namespace
}  // namespace moestream
