#include "profiling/cachesim/trace_loading.h"

#include <doctest/doctest.h>

#include <fstream>

#include "profiling/cachesim/simulator.h"
#include "profiling/trace/trace_writer.h"
#include "support/temp_dir.h"

using namespace moestream;
using namespace moestream::cachesim;

namespace {

// One layer, k = 1, 8 experts, pre-gate width 2: tokens choose 0 then 2; the recorded
// guesses were {0, 1} and {1, 3}.
std::string write_pregate_trace(const moestream::testing::TempDir& dir) {
  trace::TraceHeader h;
  h.num_moe_layers = 1;
  h.first_moe_layer = 3;
  h.experts_per_layer = 8;
  h.top_k = 1;
  h.num_pregate = 2;
  h.expert_bytes = 1000;
  std::string path = dir.file("p.mstrace");
  auto writer = trace::TraceWriter::create(path, h);
  REQUIRE(writer.ok());
  trace::TraceRecord r;
  r.phase = trace::Phase::kPrefill;
  r.chosen = {{0, 0.9f, trace::ExpertOutcome::kMiss, 100}};
  r.pregate = {{0, 0.8f}, {1, 0.7f}};
  REQUIRE(writer->append(r).ok());
  r.token = 1;
  r.phase = trace::Phase::kDecode;
  r.chosen = {{2, 0.9f, trace::ExpertOutcome::kMiss, 100}};
  r.pregate = {{1, 0.8f}, {3, 0.7f}};
  REQUIRE(writer->append(r).ok());
  REQUIRE(writer->finish().ok());
  return path;
}

}  // namespace

TEST_CASE(".mstrace files load with phases, expert size and recorded pre-gate guesses") {
  moestream::testing::TempDir dir;
  std::string path = write_pregate_trace(dir);
  CHECK(looks_like_mstrace(path));
  auto trace = load_routing_traces({path, path}, {});
  REQUIRE_MESSAGE(trace.ok(), trace.status().to_string());
  CHECK(trace->num_sequences == 2);
  CHECK(trace->num_tokens() == 4);
  CHECK(trace->has_phase);
  CHECK(trace->token_phase == std::vector<uint8_t>{0, 1, 0, 1});
  CHECK(trace->expert_bytes == 1000);
  CHECK(trace->layer_labels == std::vector<uint32_t>{3});
  CHECK(trace->pregate == std::vector<uint16_t>{0, 1, 1, 3, 0, 1, 1, 3});
}

TEST_CASE("pre-gating replays the recorded guesses: known loads, coverage and waste") {
  // C = 1, budget 2. Token 0: nothing resident, fetch {0, 1}; 0 is used (covered), 1 wasted.
  // Token 1: 0 resident, fetch {1, 3}; 2 is a demand miss, both fetches wasted.
  moestream::testing::TempDir dir;
  auto trace = load_routing_traces({write_pregate_trace(dir)}, {});
  REQUIRE(trace.ok());
  ReplayContext ctx(*trace, 0);
  auto s = simulate(ctx, {PolicyKind::kLru, false, 1, PrefetchKind::kPregate, 2});
  REQUIRE(s.ok());
  CHECK(s->prefetch_loads == 4);
  CHECK(s->prefetch_covered == 1);
  CHECK(s->demand_loads == 1);
  CHECK(s->prefetch_waste() == doctest::Approx(0.75));
  CHECK(s->prefetch_recall(1) == doctest::Approx(0.5));
  CHECK(s->phase_tokens[0] == 1);
  CHECK(s->phase_loads[1] == 3);  // decode token: 2 prefetches + 1 demand load
}

TEST_CASE("mixing .mstrace and CSV inputs, or bad files, is refused with the path") {
  moestream::testing::TempDir dir;
  std::string mst = write_pregate_trace(dir);
  std::string csv = dir.file("r.csv");
  std::ofstream(csv) << "Layer ID,Batch Number,Token,Activated Expert IDs\n1,0,a,\"[1]\"\n";
  CHECK(load_routing_traces({mst, csv}, {}).status().message().find("cannot mix") !=
        std::string::npos);
  CHECK_FALSE(load_routing_traces({}, {}).ok());
}
