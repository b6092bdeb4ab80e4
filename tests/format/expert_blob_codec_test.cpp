#include "format/expert_blob_codec.h"

#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "support/golden_fixture.h"

namespace moestream {
namespace {

TEST_CASE("a loader can check and inflate compressed blobs into the expert_weights layout") {
  testing::TempDir dir;
  auto plain = ContainerReader::open(testing::convert_golden(dir, "fp8-v31-ue8m0"));
  REQUIRE(plain.ok());
  testing::TempDir dir2;
  auto packed = ContainerReader::open(testing::convert_golden(dir2, "fp8-v31-ue8m0", BlobCompression::kZstd));
  REQUIRE(packed.ok());
  auto info = (*packed)->expert_blob(2, 9);
  REQUIRE(info.ok());
  REQUIRE(info->compression == BlobCompression::kZstd);
  std::vector<uint8_t> stored((*packed)->file().data() + info->offset,
                              (*packed)->file().data() + info->offset + info->padded_size);
  CHECK(verify_expert_blob(*info, stored.data(), (*packed)->path()).ok());
  std::vector<uint8_t> raw(info->raw_size);
  REQUIRE(decode_expert_blob(*info, stored.data(), raw.data(), (*packed)->path()).ok());
  auto from_raw = (*packed)->expert_weights(2, 9, raw.data());
  auto mapped = (*plain)->mapped_expert_weights(2, 9);
  REQUIRE(from_raw.ok());
  REQUIRE(mapped.ok());
  CHECK(std::memcmp(from_raw->up.data, mapped->up.data, mapped->up.data_bytes) == 0);
  CHECK(std::memcmp(from_raw->down.scales, mapped->down.scales, 16) == 0);
  stored[10] ^= 1;
  Status s = verify_expert_blob(*info, stored.data(), (*packed)->path());
  CHECK(s.code() == ErrorCode::kCorrupt);
  CHECK(s.message().find("expert 9 of layer 2") != std::string::npos);
  CHECK_FALSE(decode_expert_blob(*info, stored.data() + 100, raw.data(), (*packed)->path()).ok());
}

}  // namespace
}  // namespace moestream
