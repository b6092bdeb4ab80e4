#include "format/container_reader.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "format/checksum.h"
#include "format/container_layout.h"
#include "interop/hf_checkpoint.h"
#include "support/golden_fixture.h"
#include "platform/float_formats.h"

namespace moestream {
namespace {

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST_CASE("reader serves tensors by HF name with their block scales") {
  testing::TempDir dir;
  auto reader = ContainerReader::open(testing::convert_golden(dir, "fp8-v3"));
  REQUIRE_MESSAGE(reader.ok(), reader.status().to_string());
  const ContainerReader& r = **reader;
  CHECK(r.config().hidden_size == 256);
  CHECK(r.config().n_routed_experts == 32);
  CHECK(r.config().total_layers() == 4);
  auto q = r.tensor("model.layers.0.self_attn.q_b_proj.weight");
  REQUIRE(q.ok());
  CHECK(q->dtype == DType::kF8E4M3);
  CHECK(q->rank == 2);
  CHECK(q->shape[0] == 192);
  CHECK(q->shape[1] == 128);
  CHECK(q->scale_format == ScaleFormat::kF32);
  CHECK(q->scale_rows() == 2);
  CHECK(reinterpret_cast<uintptr_t>(q->data) % 64 == 0);
  CHECK(reinterpret_cast<uintptr_t>(q->scales) % 64 == 0);
  CHECK_FALSE(r.has_tensor("model.layers.0.self_attn.q_b_proj.weight_scale_inv"));
  CHECK_FALSE(r.has_tensor("model.layers.1.mlp.experts.0.gate_proj.weight"));
  auto bias = r.tensor("model.layers.1.mlp.gate.e_score_correction_bias");
  REQUIRE(bias.ok());
  CHECK(bias->dtype == DType::kF32);
  CHECK(r.tensor("nope").status().code() == ErrorCode::kNotFound);
  CHECK(r.tensor("nope").status().message().find("nope") != std::string::npos);
  CHECK(r.config_json().find("\"hidden_size\": 256") != std::string::npos);
  CHECK(!r.tokenizer_json().empty());
}

TEST_CASE("expert blobs are 4 KiB aligned and their views match the checkpoint") {
  testing::TempDir dir;
  auto reader = ContainerReader::open(testing::convert_golden(dir, "fp8-v3"));
  REQUIRE(reader.ok());
  const ContainerReader& r = **reader;
  CHECK_FALSE(r.has_experts(0));
  CHECK(r.has_experts(1));
  CHECK(r.has_experts(3));  // the MTP layer
  CHECK(r.expert_layers() == std::vector<int64_t>{1, 2, 3});
  auto ck = HfCheckpoint::open(testing::golden_dir("fp8-v3"));
  REQUIRE(ck.ok());
  for (int64_t layer : {1, 3}) {
    for (int64_t expert : {0, 31}) {
      auto blob = r.expert_blob(layer, expert);
      REQUIRE(blob.ok());
      CHECK(blob->offset % 4096 == 0);
      CHECK(blob->padded_size % 4096 == 0);
      CHECK(blob->raw_size == blob->stored_size);
      auto w = r.mapped_expert_weights(layer, expert);
      REQUIRE(w.ok());
      const TensorView* views[3] = {&w->gate, &w->up, &w->down};
      for (int p = 0; p < 3; ++p) {
        const TensorView& v = *views[p];
        CHECK(reinterpret_cast<uintptr_t>(v.data) % 64 == 0);
        CHECK(reinterpret_cast<uintptr_t>(v.scales) % 64 == 0);
        const std::string name = expert_weight_name(layer, expert, p);
        CHECK(v.name == name);
        const HfTensorRef* ref = ck.value()->find(name);
        REQUIRE(ref);
        std::vector<uint8_t> src(ref->entry->size);
        REQUIRE(ref->shard->read(*ref->entry, src.data()).ok());
        CHECK(v.data_bytes == src.size());
        CHECK(std::memcmp(v.data, src.data(), src.size()) == 0);
        const HfTensorRef* sref = ck.value()->find(name + "_scale_inv");
        std::vector<float> scales(sref->entry->numel());
        REQUIRE(sref->shard->read(*sref->entry, scales.data()).ok());
        CHECK(std::memcmp(v.scales, scales.data(), scales.size() * 4) == 0);
      }
    }
  }
  CHECK(r.expert_blob(0, 0).status().code() == ErrorCode::kNotFound);
  CHECK(r.expert_blob(1, 32).status().code() == ErrorCode::kNotFound);
}

TEST_CASE("UE8M0 checkpoints store one exponent byte per block") {
  testing::TempDir dir;
  auto reader = ContainerReader::open(testing::convert_golden(dir, "fp8-v31-ue8m0"));
  REQUIRE(reader.ok());
  auto w = (*reader)->mapped_expert_weights(2, 5);
  REQUIRE(w.ok());
  CHECK(w->down.scale_format == ScaleFormat::kUE8M0);
  auto o = (*reader)->tensor("model.layers.0.self_attn.o_proj.weight");
  REQUIRE(o.ok());
  CHECK(o->scale_format == ScaleFormat::kUE8M0);
  const float s = ue8m0_to_f32(static_cast<const uint8_t*>(o->scales)[0]);
  CHECK(s > 0.0f);
}

TEST_CASE("compressed blobs decompress into the layout expert_weights describes") {
  testing::TempDir dir;
  auto reader = ContainerReader::open(testing::convert_golden(dir, "fp8-v3", BlobCompression::kZstd));
  REQUIRE(reader.ok());
  auto blob = (*reader)->expert_blob(1, 3);
  REQUIRE(blob.ok());
  CHECK(blob->compression == BlobCompression::kZstd);
  CHECK(blob->stored_size < blob->raw_size);
  CHECK(blob->padded_size % 4096 == 0);
  CHECK((*reader)->mapped_expert_weights(1, 3).status().code() == ErrorCode::kUnsupported);
  CHECK((*reader)->verify_all_checksums().ok());
}

// The corruption cases: each must fail with a message naming the file, never crash.
struct Corrupted {
  testing::TempDir dir;
  std::string path;
  std::vector<uint8_t> bytes;
  Corrupted() {
    path = testing::convert_golden(dir, "fp8-v3");
    bytes = read_all(path);
  }
  Status open_status(bool verify = false) {
    write_all(path, bytes);
    auto r = ContainerReader::open(path, {.verify_checksums = verify});
    return r.ok() ? ok_status() : r.status();
  }
  Preamble preamble() const {
    Preamble p;
    std::memcpy(&p, bytes.data(), sizeof(p));
    return p;
  }
};

TEST_CASE("reader rejects a truncated file") {
  Corrupted c;
  c.bytes.resize(c.bytes.size() - 100);
  Status s = c.open_status();
  CHECK(s.code() == ErrorCode::kCorrupt);
  CHECK(s.message().find(c.path) != std::string::npos);
  CHECK(s.message().find("truncated") != std::string::npos);
  c.bytes.resize(100);
  CHECK(c.open_status().code() == ErrorCode::kCorrupt);
  c.bytes.clear();
  CHECK(c.open_status().code() == ErrorCode::kCorrupt);
}

TEST_CASE("reader rejects wrong magic") {
  Corrupted c;
  c.bytes[0] = 'X';
  Status s = c.open_status();
  CHECK(s.code() == ErrorCode::kCorrupt);
  CHECK(s.message().find("magic") != std::string::npos);
}

TEST_CASE("reader rejects a newer format version") {
  Corrupted c;
  Preamble p = c.preamble();
  p.major_version = kFormatMajorVersion + 1;
  auto encoded = encode_preamble(p);
  std::copy(encoded.begin(), encoded.end(), c.bytes.begin());
  Status s = c.open_status();
  CHECK(s.code() == ErrorCode::kUnsupported);
  CHECK(s.message().find("newer") != std::string::npos);
}

TEST_CASE("reader rejects a flipped byte in the preamble and in the header") {
  Corrupted c;
  c.bytes[20] ^= 0x01;
  CHECK(c.open_status().code() == ErrorCode::kCorrupt);
  c.bytes[20] ^= 0x01;
  const Preamble p = c.preamble();
  for (uint64_t at : {p.header_offset, p.header_offset + 40, p.header_offset + p.header_size / 2,
                      p.header_offset + p.header_size - 1}) {
    c.bytes[at] ^= 0x20;
    Status s = c.open_status();
    CHECK(s.code() == ErrorCode::kCorrupt);
    CHECK(s.message().find("header") != std::string::npos);
    c.bytes[at] ^= 0x20;
  }
  CHECK(c.open_status().ok());
}

TEST_CASE("a flipped byte in an expert blob or a tensor is caught by the checksums") {
  Corrupted c;
  auto reader = ContainerReader::open(c.path);
  REQUIRE(reader.ok());
  const uint64_t blob_at = (*reader)->expert_blob(2, 7)->offset + 1000;
  auto view = (*reader)->tensor("model.norm.weight");
  const uint64_t tensor_at = static_cast<const uint8_t*>(view->data) - (*reader)->file().data();
  reader = Status(ErrorCode::kInternal, "closed");
  c.bytes[blob_at] ^= 0x40;
  CHECK(c.open_status(false).ok());  // structure is fine; only the checksum can tell
  Status s = c.open_status(true);
  CHECK(s.code() == ErrorCode::kCorrupt);
  CHECK(s.message().find("expert 7 of layer 2") != std::string::npos);
  c.bytes[blob_at] ^= 0x40;
  c.bytes[tensor_at + 3] ^= 0x01;
  s = c.open_status(true);
  CHECK(s.code() == ErrorCode::kCorrupt);
  CHECK(s.message().find("model.norm.weight") != std::string::npos);
}

TEST_CASE("reader rejects a header whose offsets point past the file even with a valid checksum") {
  Corrupted c;
  Preamble p = c.preamble();
  p.header_size = c.bytes.size();  // runs past the end
  auto encoded = encode_preamble(p);
  std::copy(encoded.begin(), encoded.end(), c.bytes.begin());
  CHECK(c.open_status().code() == ErrorCode::kCorrupt);
}

}  // namespace
}  // namespace moestream

namespace moestream {
namespace {

TEST_CASE("reader bounds-checks tensor offsets even when the header checksum is recomputed") {
  Corrupted c;
  auto reader = ContainerReader::open(c.path);
  REQUIRE(reader.ok());
  auto view = (*reader)->tensor("model.norm.weight");
  const uint64_t offset = static_cast<const uint8_t*>(view->data) - (*reader)->file().data();
  reader = Status(ErrorCode::kInternal, "closed");
  Preamble p = c.preamble();
  // Find the stored offset value inside the header and point it past the end of the file.
  uint64_t found = 0;
  for (uint64_t i = p.header_offset; i + 8 <= p.header_offset + p.header_size; i += 4) {
    uint64_t v;
    std::memcpy(&v, &c.bytes[i], 8);
    if (v == offset) found = i;
  }
  REQUIRE(found != 0);
  const uint64_t bad = c.bytes.size() + 4096 * 64;
  std::memcpy(&c.bytes[found], &bad, 8);
  p.header_checksum = xxh3_64(&c.bytes[p.header_offset], p.header_size);
  auto encoded = encode_preamble(p);
  std::copy(encoded.begin(), encoded.end(), c.bytes.begin());
  Status s = c.open_status();
  CHECK(s.code() == ErrorCode::kCorrupt);
  CHECK(s.message().find("outside") != std::string::npos);
}

}  // namespace
}  // namespace moestream
