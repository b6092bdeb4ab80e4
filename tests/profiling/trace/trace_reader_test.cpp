#include "profiling/trace/trace_reader.h"

#include <doctest/doctest.h>
#include <zstd.h>

#include <fstream>
#include <sstream>

#include "profiling/trace/trace_encoding.h"
#include "profiling/trace/trace_writer.h"
#include "support/file_contents.h"
#include "support/temp_dir.h"
#include "trace_test_records.h"

using namespace moestream;
using namespace moestream::trace;

namespace {

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string write_sample(const moestream::testing::TempDir& dir, uint32_t records = 20) {
  const std::string path = dir.file("sample.mstrace");
  TraceHeader h = test_records::small_header();
  auto writer = TraceWriter::create(path, h, {.records_per_chunk = 8, .zstd_level = 1});
  REQUIRE(writer.ok());
  for (uint32_t i = 0; i < records; ++i) REQUIRE(writer->append(test_records::record_for(h, i)).ok());
  REQUIRE(writer->finish().ok());
  return moestream::testing::read_file(path);
}

Status read_error(const std::string& path) {
  auto records = read_all_records(path);
  return records.ok() ? Status() : records.status();
}

}  // namespace

TEST_CASE("every truncation of a trace is an error, never a crash") {
  moestream::testing::TempDir dir;
  const std::string bytes = write_sample(dir);
  const std::string cut = dir.file("cut.mstrace");
  // Every length through the header and first chunk header, then a spread of the rest.
  for (size_t size = 0; size < bytes.size(); size += size < 160 ? 1 : 7) {
    spit(cut, bytes.substr(0, size));
    Status s = read_error(cut);
    INFO("truncated to " << size << " of " << bytes.size() << " bytes: " << s.to_string());
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find(cut) != std::string::npos);  // names the file
  }
  // Cut at a chunk boundary: the message says how many records survived.
  spit(cut, bytes.substr(0, bytes.size() - kEndMarkerBytes));
  Status s = read_error(cut);
  CHECK(s.message().find("truncated after 20 records") != std::string::npos);
  CHECK(s.message().find("no end marker") != std::string::npos);
}

TEST_CASE("damaged bytes are caught by the checksums") {
  moestream::testing::TempDir dir;
  const std::string bytes = write_sample(dir);
  const std::string bad = dir.file("bad.mstrace");

  std::string damaged = bytes;
  damaged[20] ^= 1;  // a header field
  spit(bad, damaged);
  CHECK(read_error(bad).message().find("header checksum") != std::string::npos);

  damaged = bytes;
  damaged[bytes.size() / 2] ^= 0x40;  // inside a compressed chunk
  spit(bad, damaged);
  Status s = read_error(bad);
  CHECK(s.code() == ErrorCode::kCorrupt);
  CHECK(s.message().find("checksum") != std::string::npos);

  damaged = bytes;
  damaged[0] = 'X';
  spit(bad, damaged);
  CHECK(read_error(bad).message().find("not a moestream trace") != std::string::npos);

  spit(bad, bytes + "extra");
  CHECK(read_error(bad).message().find("after the end marker") != std::string::npos);
}

TEST_CASE("a newer format version is refused as unsupported") {
  moestream::testing::TempDir dir;
  std::string bytes = write_sample(dir);
  bytes[8] = 2;
  spit(dir.file("v2.mstrace"), bytes);
  Status s = read_error(dir.file("v2.mstrace"));
  CHECK(s.code() == ErrorCode::kUnsupported);
  CHECK(s.message().find("version 2") != std::string::npos);
}

TEST_CASE("a well-formed chunk with an out-of-range expert is corrupt, naming the record") {
  // Built by hand so the checksums are right and only the content is wrong.
  moestream::testing::TempDir dir;
  TraceHeader h = test_records::small_header();
  std::string file = encode_header(h);
  std::string raw;
  TraceRecord r = test_records::record_for(h, 0);
  encode_record(h, r, &raw);
  r.chosen[0].expert = 99;
  encode_record(h, r, &raw);
  std::string z(ZSTD_compressBound(raw.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), raw.data(), raw.size(), 1));
  put<uint32_t>(&file, kChunkMagic);
  put<uint32_t>(&file, 2);
  put<uint32_t>(&file, static_cast<uint32_t>(raw.size()));
  put<uint32_t>(&file, static_cast<uint32_t>(z.size()));
  put<uint64_t>(&file, trace_checksum(z.data(), z.size()));
  file += z;
  spit(dir.file("range.mstrace"), file);
  auto reader = TraceReader::open(dir.file("range.mstrace"));
  REQUIRE(reader.ok());
  TraceRecord out;
  CHECK(*reader->next(&out) == true);
  auto second = reader->next(&out);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().message().find("record 1") != std::string::npos);
  CHECK(second.status().message().find("expert 99") != std::string::npos);
}

TEST_CASE("missing files and tiny files say what is wrong") {
  moestream::testing::TempDir dir;
  CHECK(TraceReader::open(dir.file("nope.mstrace")).status().code() == ErrorCode::kNotFound);
  spit(dir.file("tiny"), "MSTRACE");
  CHECK(TraceReader::open(dir.file("tiny")).status().message().find("truncated") !=
        std::string::npos);
}
