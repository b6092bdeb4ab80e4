#include "profiling/trace/trace_writer.h"

#include <doctest/doctest.h>

#include <filesystem>

#include "profiling/trace/trace_reader.h"
#include "support/temp_dir.h"
#include "trace_test_records.h"

using namespace moestream;
using namespace moestream::trace;

TEST_CASE("a written trace reads back record for record across several chunks") {
  moestream::testing::TempDir dir;
  const std::string path = dir.file("t.mstrace");
  TraceHeader h = test_records::small_header();
  auto writer = TraceWriter::create(path, h, {.records_per_chunk = 7, .zstd_level = 3});
  REQUIRE(writer.ok());
  std::vector<TraceRecord> written;
  for (uint32_t i = 0; i < 100; ++i) {
    written.push_back(test_records::record_for(h, i));
    REQUIRE(writer->append(written.back()).ok());
  }
  // Until finish() only the .partial file exists.
  CHECK(std::filesystem::exists(path + ".partial"));
  CHECK_FALSE(std::filesystem::exists(path));
  REQUIRE(writer->finish().ok());
  CHECK(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(path + ".partial"));

  TraceHeader read_header;
  auto records = read_all_records(path, &read_header);
  REQUIRE_MESSAGE(records.ok(), records.status().to_string());
  CHECK(read_header.model_name == "tiny-test");
  CHECK(read_header.expert_bytes == 44'050'944);
  CHECK(read_header.num_pregate == 5);
  CHECK(read_header.first_moe_layer == 3);
  CHECK(*records == written);
}

TEST_CASE("an empty trace (header and end marker only) is valid") {
  moestream::testing::TempDir dir;
  auto writer = TraceWriter::create(dir.file("e.mstrace"), test_records::small_header());
  REQUIRE(writer.ok());
  REQUIRE(writer->finish().ok());
  auto records = read_all_records(dir.file("e.mstrace"));
  REQUIRE(records.ok());
  CHECK(records->empty());
}

TEST_CASE("the writer rejects records that do not fit the header") {
  moestream::testing::TempDir dir;
  TraceHeader h = test_records::small_header();
  auto writer = TraceWriter::create(dir.file("bad.mstrace"), h);
  REQUIRE(writer.ok());
  TraceRecord r = test_records::record_for(h, 0);
  r.chosen[1].expert = 16;
  Status s = writer->append(r);
  CHECK(s.code() == ErrorCode::kInvalidArgument);
  CHECK(s.message().find("experts_per_layer") != std::string::npos);
  r = test_records::record_for(h, 0);
  r.pregate.pop_back();
  CHECK(writer->append(r).message().find("pregate has 4 entries") != std::string::npos);
  r = test_records::record_for(h, 0);
  r.layer = 3;
  CHECK_FALSE(writer->append(r).ok());
  r = test_records::record_for(h, 0);
  r.chosen[2].expert = r.chosen[0].expert;
  CHECK(writer->append(r).message().find("chosen twice") != std::string::npos);
  CHECK(writer->records_written() == 0);
}

TEST_CASE("an abandoned writer leaves no file behind") {
  moestream::testing::TempDir dir;
  const std::string path = dir.file("gone.mstrace");
  {
    auto writer = TraceWriter::create(path, test_records::small_header());
    REQUIRE(writer.ok());
    REQUIRE(writer->append(test_records::record_for(test_records::small_header(), 0)).ok());
  }
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(path + ".partial"));
}

TEST_CASE("bad headers are refused") {
  moestream::testing::TempDir dir;
  TraceHeader h = test_records::small_header();
  h.top_k = 17;
  CHECK_FALSE(TraceWriter::create(dir.file("x.mstrace"), h).ok());
  h = test_records::small_header();
  h.num_moe_layers = 0;
  CHECK_FALSE(TraceWriter::create(dir.file("x.mstrace"), h).ok());
}
