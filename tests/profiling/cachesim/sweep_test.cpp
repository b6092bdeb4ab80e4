#include "profiling/cachesim/sweep.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "profiling/cachesim/json_report.h"
#include "profiling/cachesim/svg_plot.h"
#include "profiling/cachesim/text_report.h"
#include "tiny_traces.h"

using namespace moestream::cachesim;

TEST_CASE("default sizes: k and fractions of N (Table A2's sizes for N = 64, k = 6)") {
  CHECK(default_cache_sizes(64, 6) == std::vector<uint32_t>{6, 8, 12, 16, 24, 32, 48});
  CHECK(default_cache_sizes(256, 8) == std::vector<uint32_t>{8, 32, 48, 64, 96, 128, 192});
  CHECK(kDeepSeekV3ExpertBytes == 44'050'944);
}

TEST_CASE("a sweep runs every policy x pool x size and notes what it skipped") {
  auto trace = testing::random_trace(5, 3, 16, 2, 4, 20);
  SweepConfig config;
  config.sizes = {2, 4, 8};
  auto r = run_sweep(trace, config);
  REQUIRE(r.ok());
  CHECK(r->train_sequences == 2);
  // 7 policies x 2 pools x 3 sizes + oracle and co-occurrence x 3 sizes; pregate skipped.
  CHECK(r->runs.size() == 7 * 2 * 3 + 2 * 3);
  REQUIRE(r->notes.size() == 1);
  CHECK(r->notes[0].find("pre-gating") != std::string::npos);
  CHECK(find_run(*r, PolicyKind::kArc, true, 4) != nullptr);

  std::string text = format_text_report(*r);
  CHECK(text.find("OPT-best gap") != std::string::npos);
  CHECK(text.find("not recorded") != std::string::npos);

  auto json = nlohmann::json::parse(format_json_report(*r));
  CHECK(json["runs"].size() == r->runs.size());
  CHECK(json["trace"]["top_k"] == 2);
  CHECK(json["runs"][0].contains("all_k_resident_rate"));

  std::string svg = render_hit_rate_svg(*r);
  CHECK(svg.find("<svg") == svg.find("<svg xmlns"));
  CHECK(svg.find("OPT (Belady, offline bound)") != std::string::npos);
  CHECK(svg.find("stroke-dasharray") != std::string::npos);
  CHECK(svg.find("experts cached per layer") != std::string::npos);
  CHECK(svg.find("hit rate") != std::string::npos);
  CHECK(svg.find("One shared pool") != std::string::npos);
}

TEST_CASE("without a training split the trained models are skipped with a reason") {
  auto trace = testing::random_trace(5, 2, 8, 2, 3, 10);
  SweepConfig config;
  config.sizes = {2};
  config.train_fraction = 0;
  auto r = run_sweep(trace, config);
  REQUIRE(r.ok());
  CHECK(find_run(*r, PolicyKind::kStaticHotSet, false, 2) == nullptr);
  bool noted = false;
  for (const auto& n : r->notes) noted |= n.find("static") != std::string::npos;
  CHECK(noted);
  config.train_fraction = 1.0;
  CHECK_FALSE(run_sweep(trace, config).ok());
}
