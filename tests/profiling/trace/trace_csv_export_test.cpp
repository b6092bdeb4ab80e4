#include "profiling/trace/trace_csv_export.h"

#include <doctest/doctest.h>

#include <cmath>

#include "profiling/trace/trace_writer.h"
#include "support/temp_dir.h"

using namespace moestream;
using namespace moestream::trace;

TEST_CASE("a record becomes one CSV line with space-separated lists") {
  TraceRecord r;
  r.sequence = 2;
  r.token = 7;
  r.layer = 1;
  r.phase = Phase::kDecode;
  r.chosen = {{5, 0.25f, ExpertOutcome::kHit, 0}, {9, 0.125f, ExpertOutcome::kMiss, 1500}};
  r.candidates = {{3, 0.0625f}};
  r.pregate = {{5, NAN}, {4, 0.5f}};
  r.prefetch_wasted = 1;
  CHECK(format_trace_csv_line(r) ==
        "2,7,1,decode,5 9,0.25 0.125,hit miss,0 1500,3,0.0625,5 4,nan 0.5,1\n");
  CHECK(trace_csv_columns().substr(0, 27) == "sequence,token,layer,phase,");
}

TEST_CASE("export writes the column line then every record") {
  moestream::testing::TempDir dir;
  TraceHeader h;
  h.num_moe_layers = 1;
  h.experts_per_layer = 4;
  h.top_k = 1;
  auto writer = TraceWriter::create(dir.file("t.mstrace"), h);
  REQUIRE(writer.ok());
  TraceRecord r;
  r.chosen = {{2, 1.0f, ExpertOutcome::kPrefetchHit, 3}};
  REQUIRE(writer->append(r).ok());
  r.token = 1;
  REQUIRE(writer->append(r).ok());
  REQUIRE(writer->finish().ok());
  auto reader = TraceReader::open(dir.file("t.mstrace"));
  REQUIRE(reader.ok());
  std::string out;
  REQUIRE(export_trace_csv(*reader, [&](std::string_view s) {
            out += s;
            return ok_status();
          }).ok());
  CHECK(out == std::string(trace_csv_columns()) + "0,0,0,decode,2,1,prefetch_hit,3,,,,,0\n" +
                   "0,1,0,decode,2,1,prefetch_hit,3,,,,,0\n");
}
