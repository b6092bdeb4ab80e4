#include "format/blob_load_benchmark.h"

#include <doctest/doctest.h>

#include "support/golden_fixture.h"

namespace moestream {
namespace {

TEST_CASE("blob load measurement reads and decompresses blobs and finds a crossover") {
  testing::TempDir dir;
  auto reader = ContainerReader::open(testing::convert_golden(dir, "fp8-v3", BlobCompression::kZstd));
  REQUIRE(reader.ok());
  auto m = measure_blob_loading(**reader, 16);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  CHECK(m->blobs == 16);
  CHECK(m->ratio() < 0.95);  // FP8 weights compress by roughly a fifth
  CHECK(m->decompress_bandwidth() > 0);
  CHECK(m->crossover_serial() < m->crossover_overlapped(1));
  CHECK(blob_load_crossover_table(*m).size() == 11);
}

TEST_CASE("blob load measurement of an uncompressed container reports no decompression") {
  testing::TempDir dir;
  auto reader = ContainerReader::open(testing::convert_golden(dir, "bf16"));
  REQUIRE(reader.ok());
  auto m = measure_blob_loading(**reader, 4);
  REQUIRE(m.ok());
  CHECK(m->decompress_seconds == 0);
  CHECK(m->ratio() == 1.0);
  CHECK(blob_load_crossover_table(*m).empty());
}

}  // namespace
}  // namespace moestream
