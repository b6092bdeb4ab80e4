// `--speculative mtp` on the command line: `run` on the small preset (real vocabulary, 6
// layers) prints the same ids with and without it and reports the drafts; `bench e2e
// --speculative mtp` checks the output itself and reports acceptance at the MTP's drafts and
// at drafts forced right; a bad value is a usage error.
#include <doctest/doctest.h>

#include <algorithm>
#include <regex>
#include <string>

#include "support/cli_runner.h"
#include "support/temp_dir.h"

using namespace moestream::testing;

namespace {
std::string cli() { return MOESTREAM_CLI_PATH; }

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }
}  // namespace

TEST_CASE("run --speculative mtp on the small preset: the same ids, drafts reported") {
  TempDir dir;
  const std::string model = dir.file("small.mst");
  REQUIRE(run_shell(cli() + " synth --preset small --quiet --out " + model).exit_code == 0);
  const std::string args = " run " + model + " --tokens '0 309 5000 7 11 12' -n 24 --ignore-eos";
  const CliResult plain = run_shell(cli() + args + " 2>/dev/null");
  const CliResult spec = run_shell(cli() + args + " --speculative mtp");
  REQUIRE_MESSAGE(spec.exit_code == 0, spec.output);
  REQUIRE(plain.exit_code == 0);
  const std::string ids = first_line(plain.output);
  CHECK(std::count(ids.begin(), ids.end(), ' ') == 23);
  CHECK(spec.output.find(ids) != std::string::npos);
  CHECK(std::regex_search(spec.output, std::regex("speculation: [0-9]+ of [0-9]+ MTP drafts accepted")));
  // Streamed under a budget the plan picks: the same ids.
  const CliResult streamed = run_shell(cli() + args + " --speculative mtp --ram-budget 400M");
  REQUIRE_MESSAGE(streamed.exit_code == 0, streamed.output);
  CHECK(streamed.output.find(ids) != std::string::npos);
  CHECK(streamed.output.find("+ the MTP layer") != std::string::npos);  // counted resident

  const CliResult bad = run_shell(cli() + args + " --speculative eagle");
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("--speculative takes mtp or off") != std::string::npos);
}

TEST_CASE("bench e2e --speculative mtp: acceptance with the MTP's drafts and with drafts forced right") {
  TempDir dir;
  const std::string model = synth_tiny_model(dir.file("m.mst"), 64);
  const CliResult o = run_shell(cli() + " bench e2e " + model +
                                " --ram-budget 512M --speculative mtp --new-tokens 9 --fio-seconds 0 --triad-mb 16 "
                                "--triad-seconds 0.05 --threads 1");
  REQUIRE_MESSAGE(o.exit_code == 0, o.output);
  CHECK(o.output.find("| mtp drafts |") != std::string::npos);
  CHECK(std::regex_search(o.output, std::regex("mtp forced right: ([0-9]+) of \\1 drafts accepted \\(100.0%\\), 2.00 tokens")));
}
