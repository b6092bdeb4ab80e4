// End-to-end: `moestream cachesim` and `moestream trace` as a user runs them.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "profiling/trace/trace_writer.h"
#include "support/cli_runner.h"
#include "support/temp_dir.h"

namespace {

using moestream::testing::CliResult;
using moestream::testing::run_cli;

// Two prompts of a 2-layer, 8-expert, k = 2 model in the shared-trace CSV layout.
void write_routing_csvs(const moestream::testing::TempDir& dir) {
  const char* header = "Layer ID,Batch Number,Token,Activated Expert IDs\n";
  std::ofstream(dir.file("prompt_1.csv"))
      << header << "1,0,A,\"[0, 1]\"\n1,0,\",\",\"[0, 2]\"\n1,0,c,\"[1, 0]\"\n"
      << "2,0,A,\"[3, 4]\"\n2,0,\",\",\"[3, 5]\"\n2,0,c,\"[4, 3]\"\n";
  std::ofstream(dir.file("prompt_2.csv"))
      << header << "1,0,x,\"[0, 1]\"\n1,0,y,\"[2, 0]\"\n2,0,x,\"[3, 4]\"\n2,0,y,\"[7, 3]\"\n";
}

}  // namespace

TEST_CASE("cachesim replays routing CSVs: tables, JSON and an SVG plot") {
  moestream::testing::TempDir dir;
  write_routing_csvs(dir);
  const std::string files = dir.file("prompt_1.csv") + " " + dir.file("prompt_2.csv");
  auto text = run_cli("cachesim --quiet --sizes 2,4 " + files);
  INFO(text.output);
  REQUIRE(text.exit_code == 0);
  CHECK(text.output.find("Hit rate, one cache of C experts per layer") != std::string::npos);
  CHECK(text.output.find("OPT-best gap") != std::string::npos);
  CHECK(text.output.find("pre-gating (recorded): not available") != std::string::npos);
  CHECK(text.output.find("cachesim: ") != std::string::npos);  // the summary line

  auto json = run_cli("cachesim --quiet --json --sizes 2 --train-fraction 0 --prefetch none --svg " +
                          dir.file("plot.svg") + " " + files,
                      false);
  REQUIRE(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.output);
  CHECK(j["trace"]["experts_per_layer"] == 8);
  CHECK(j["trace"]["top_k"] == 2);
  CHECK(j["replay"]["replayed_tokens"] == 5);
  CHECK(j["replay"]["expert_bytes"] == 44050944);
  double lru = -1, opt = -1;
  for (const auto& run : j["runs"]) {
    if (run["pool"] != "per-layer") continue;
    if (run["policy"] == "lru") lru = run["hit_rate"];
    if (run["policy"] == "opt") opt = run["hit_rate"];
  }
  CHECK(lru >= 0);
  CHECK(opt >= lru);
  CHECK(std::filesystem::file_size(dir.file("plot.svg")) > 1000);
}

TEST_CASE("cachesim errors name the file and line, and bad flags are usage errors") {
  moestream::testing::TempDir dir;
  std::ofstream(dir.file("bad.csv")) << "Layer ID,Batch Number,Token,Activated Expert IDs\n"
                                     << "1,0,a,\"[1, 2]\"\n1,0,b,\"[1; 2]\"\n";
  auto bad = run_cli("cachesim --quiet " + dir.file("bad.csv"));
  CHECK(bad.exit_code == 1);
  CHECK(bad.output.find("bad.csv:3:") != std::string::npos);
  write_routing_csvs(dir);
  CHECK(run_cli("cachesim --policies lru,fifo " + dir.file("prompt_1.csv")).exit_code == 2);
  CHECK(run_cli("cachesim --sizes 99 " + dir.file("prompt_1.csv")).output.find("larger than") !=
        std::string::npos);
  CHECK(run_cli("cachesim").exit_code == 2);
}

TEST_CASE("trace info and trace csv read an .mstrace, and cachesim uses its header and guesses") {
  using namespace moestream::trace;
  moestream::testing::TempDir dir;
  TraceHeader h;
  h.num_moe_layers = 2;
  h.first_moe_layer = 3;
  h.experts_per_layer = 8;
  h.top_k = 2;
  h.num_candidates = 1;
  h.num_pregate = 2;
  h.expert_bytes = 1 << 20;
  h.model_name = "cli-test";
  const std::string path = dir.file("run.mstrace");
  auto writer = TraceWriter::create(path, h);
  REQUIRE(writer.ok());
  for (uint32_t t = 0; t < 6; ++t) {
    for (uint16_t l = 0; l < 2; ++l) {
      TraceRecord r;
      r.sequence = t / 3;
      r.token = t % 3;
      r.layer = l;
      r.phase = t % 3 == 0 ? Phase::kPrefill : Phase::kDecode;
      r.chosen = {{static_cast<uint16_t>(t % 4), 0.5f, ExpertOutcome::kMiss, 120},
                  {static_cast<uint16_t>(4 + l), 0.25f, ExpertOutcome::kHit, 0}};
      r.candidates = {{7, 0.1f}};
      r.pregate = {{static_cast<uint16_t>(t % 4), 0.4f}, {6, 0.2f}};
      REQUIRE(writer->append(r).ok());
    }
  }
  REQUIRE(writer->finish().ok());

  auto info = run_cli("trace info " + path);
  REQUIRE(info.exit_code == 0);
  CHECK(info.output.find("cli-test") != std::string::npos);
  CHECK(info.output.find("12 (token-layer steps) in 2 sequences") != std::string::npos);

  auto csv = run_cli("trace csv " + path, false);
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.output.rfind("sequence,token,layer,phase,experts", 0) == 0);
  CHECK(csv.output.find("\n0,0,0,prefill,0 4,0.5 0.25,miss hit,120 0,7,0.1,0 6,0.4 0.2,0\n") !=
        std::string::npos);
  REQUIRE(run_cli("trace csv " + path + " --output " + dir.file("out.csv")).exit_code == 0);
  CHECK(std::filesystem::file_size(dir.file("out.csv")) == csv.output.size());

  auto sim = run_cli("cachesim --quiet --json --sizes 2 --prefetch pregate --prefetch-budget 2 "
                     "--train-fraction 0 " + path,
                     false);
  REQUIRE(sim.exit_code == 0);
  auto j = nlohmann::json::parse(sim.output);
  CHECK(j["replay"]["expert_bytes"] == 1 << 20);
  CHECK(j["replay"]["expert_bytes_source"] == "trace header");
  bool pregate_ran = false;
  for (const auto& run : j["runs"]) {
    if (run["prefetch"] != "pregate") continue;
    pregate_ran = true;
    CHECK(run.contains("prefetch_recall"));
    CHECK(run["phases"]["prefill"]["tokens"] == 2);
  }
  CHECK(pregate_ran);

  std::ofstream(dir.file("cut.mstrace"), std::ios::binary)
      << std::string(std::istreambuf_iterator<char>(std::ifstream(path, std::ios::binary).rdbuf()), {})
             .substr(0, 100);
  auto cut = run_cli("trace info " + dir.file("cut.mstrace"));
  CHECK(cut.exit_code == 1);
  CHECK(cut.output.find("truncated") != std::string::npos);
}
