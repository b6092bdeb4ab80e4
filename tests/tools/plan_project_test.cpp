// `plan --project`: the placement of the budget plan, a hit rate from a routing trace (or
// given), and decode time per token from bytes and bandwidths, for a container or the
// built-in DeepSeek-V3 671B shape; the arithmetic checked from the printed bytes.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <string>

#include "support/cli_runner.h"
#include "support/temp_dir.h"

using namespace moestream::testing;

namespace {
std::string cli() { return MOESTREAM_CLI_PATH; }

double number_after(const std::string& text, const std::string& pattern) {
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(text, m, std::regex(pattern)), text);
  return std::stod(m[1]);
}
}  // namespace

TEST_CASE("plan --project on the built-in DeepSeek-V3 shape: placement, given hit rate, I/O and memory time") {
  const CliResult o = run_shell(cli() + " plan deepseek-v3 --project --ram 128G --nvme-gbs 14 --memory-gbs 200 "
                                        "--cores 16 --hit-rate 0.5 --kv-cache bf16");
  REQUIRE_MESSAGE(o.exit_code == 0, o.output);
  CHECK(o.output.find("DeepSeek-V3 671B (built-in shape): 61 layers (58 MoE), 256 routed experts of 42.0 MiB") !=
        std::string::npos);
  CHECK(o.output.find("hit rate: 50.0% (given with --hit-rate)") != std::string::npos);
  // 58 layers x 8 experts x half missed x 44,050,944 bytes (FP8 weights and f32 block scales) / 14 GB/s.
  CHECK(number_after(o.output, "I/O ([0-9.]+) ms") == doctest::Approx(58 * 8 * 0.5 * 44050944.0 / 14e9 * 1e3).epsilon(1e-3));
  const double slots = number_after(o.output, "experts cached: ([0-9]+) slots");
  CHECK(slots > 1000);  // most of 128 GiB after ~16 GiB of non-expert weights
  CHECK(slots < 3200);
  const double io = number_after(o.output, "I/O ([0-9.]+) ms"), mem = number_after(o.output, "memory ([0-9.]+) ms");
  // The head: 129,280 x 7168 BF16 weights (and the final norm) at 200 GB/s.
  const double head = number_after(o.output, "none through the ([0-9.]+) ms output head");
  CHECK(head == doctest::Approx((129280.0 * 7168 * 2 + 7168 * 4) / 200e9 * 1e3).epsilon(0.02));
  CHECK(number_after(o.output, "projected decode: ([0-9.]+) tok/s as the engine overlaps today") ==
        doctest::Approx(1e3 / std::max(io + head, mem)).epsilon(0.01));
  CHECK(number_after(o.output, "max\\(I/O \\+ head, memory\\)\\); ([0-9.]+) tok/s with I/O and compute adding up") ==
        doctest::Approx(1e3 / (io + mem)).epsilon(0.01));
  CHECK(number_after(o.output, "adding up, ([0-9.]+) tok/s fully overlapped") ==
        doctest::Approx(1e3 / std::max(io, mem)).epsilon(0.01));
}

TEST_CASE("plan --project on a container with a routing trace, flags checked") {
  TempDir dir;
  const std::string model = dir.file("m.mst");
  REQUIRE(run_shell(cli() + " synth --preset tiny --experts 64 --quiet --out " + model).exit_code == 0);
  // Top-1 routing that always picks expert 3: every access after the first per layer hits.
  const std::string trace = dir.file("trace.csv");
  {
    std::ofstream f(trace);
    f << "Layer ID,Batch Number,Token,Activated Expert IDs\n";
    for (int layer = 1; layer <= 2; ++layer) {
      for (int t = 0; t < 10; ++t) f << layer << ",0,t" << t << ",\"[3]\"\n";
    }
  }
  const CliResult o = run_shell(cli() + " plan " + model + " --project --ram 512M --nvme-gbs 2 --memory-gbs 20 --trace " + trace);
  REQUIRE_MESSAGE(o.exit_code == 0, o.output);
  CHECK(o.output.find("hit rate: 90.0% (LRU replay of 1 file(s): 2 layers x 4 experts, top-1") != std::string::npos);
  CHECK(o.output.find("placement: ram budget 512.0 MiB") != std::string::npos);

  CliResult bad = run_shell(cli() + " plan " + model + " --project --ram 128M");
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("--project needs --ram SIZE, --nvme-gbs and --memory-gbs") != std::string::npos);
  bad = run_shell(cli() + " plan " + model + " --project --ram 128M --nvme-gbs 2 --memory-gbs 20");
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("routing trace") != std::string::npos);
}
