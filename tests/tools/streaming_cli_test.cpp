// End-to-end streaming: `logits --ram-budget` with a budget that holds under a quarter of the
// experts writes the same bytes as the resident run; peak RSS stays under the budget (also
// under a cgroup v1 memory limit where one can be made); a budget too small is refused;
// `run` prints the cache report; the pread fallback says why once; `bench loader` runs.
#include <doctest/doctest.h>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "support/cli_runner.h"
#include "support/file_contents.h"
#include "support/temp_dir.h"

using namespace moestream::testing;

namespace {

std::string cli() { return MOESTREAM_CLI_PATH; }

using Output = CliResult;

Output run(const std::string& command) { return run_shell(command); }

const char* const kTokens = "0 5 9 100 200 7 8 1500 33 2";

// The smallest budget the plan accepts, from its refusal message, in bytes (+- 0.05 MB).
uint64_t minimum_budget(const std::string& model) {
  const Output o = run(cli() + " logits " + model + " --tokens '" + kTokens + "' --out /dev/null --ram-budget 1M");
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(o.output, m, std::regex("needs at least ([0-9.]+) MiB")), o.output);
  return static_cast<uint64_t>(std::stod(m[1]) * 1048576);
}

}  // namespace

TEST_CASE("logits --ram-budget under a quarter of the experts: identical bytes, RSS under the budget") {
  TempDir dir;
  const std::string model = dir.file("m.mst");
  REQUIRE(run(cli() + " synth --preset tiny --experts 64 --quiet --out " + model).exit_code == 0);
  // The minimum holds top-k + margin slots; 3 MB more is ~30 slots of 102 KB: < 48 = 192 / 4.
  const uint64_t budget = minimum_budget(model) + 3'000'000;
  const std::string flags = " --ram-budget " + std::to_string(budget);
  for (const char* mode : {"", " --decode"}) {
    CAPTURE(mode);
    const std::string resident = dir.file("resident.f32"), streamed = dir.file("streamed.f32");
    REQUIRE(run(cli() + " logits " + model + " --tokens '" + kTokens + "' --out " + resident + mode + " --force").exit_code == 0);
    const Output o = run(cli() + " logits " + model + " --tokens '" + kTokens + "' --out " + streamed + mode + flags + " --force");
    REQUIRE_MESSAGE(o.exit_code == 0, o.output);
    CHECK(read_file(resident) == read_file(streamed));
    std::smatch m;
    REQUIRE(std::regex_search(o.output, m, std::regex("([0-9]+) expert slots x .*of ([0-9]+) experts")));
    CHECK(std::stoll(m[1]) * 4 <= std::stoll(m[2]));
    REQUIRE(std::regex_search(o.output, m, std::regex("\\(([0-9]+) of ([0-9]+) bytes\\)")));
    CHECK(std::stoull(m[1]) <= std::stoull(m[2]));
    CHECK(o.output.find("expert cache report") != std::string::npos);
  }
}

TEST_CASE("streaming under a cgroup v1 memory limit equal to the budget (skipped where none can be made)") {
  const std::filesystem::path root = "/sys/fs/cgroup/memory";
  const std::filesystem::path group = root / ("moestream-test-" + std::to_string(::getpid()));
  std::error_code ec;
  if (!std::filesystem::exists(root / "memory.limit_in_bytes") || !std::filesystem::create_directory(group, ec)) {
    MESSAGE("no writable cgroup v1 memory hierarchy: covered by the sampled-RSS test");
    return;
  }
  TempDir dir;
  const std::string model = dir.file("m.mst");
  REQUIRE(run(cli() + " synth --preset tiny --experts 64 --quiet --out " + model).exit_code == 0);
  const uint64_t budget = minimum_budget(model) + 3'000'000;
  { std::ofstream(group / "memory.limit_in_bytes") << budget; }
  const Output o = run("sh -c 'echo $$ > " + (group / "cgroup.procs").string() + " && exec " + cli() + " run " +
                       model + " --tokens \"" + kTokens + "\" -n 8 --ram-budget " + std::to_string(budget) + "'");
  const std::string max_usage = read_file(group / "memory.max_usage_in_bytes");
  std::filesystem::remove(group, ec);
  REQUIRE_MESSAGE(o.exit_code == 0, o.output);  // not OOM-killed under the hard limit
  CHECK(std::stoull(max_usage) <= budget);
  CHECK(o.output.find("expert cache report") != std::string::npos);
}

TEST_CASE("a budget too small is refused with the split, and the pread fallback says why once") {
  TempDir dir;
  const std::string model = dir.file("m.mst");
  REQUIRE(run(cli() + " synth --preset tiny --quiet --out " + model).exit_code == 0);
  Output o = run(cli() + " run " + model + " --tokens '0 5 9' -n 2 --ram-budget 2M");
  CHECK(o.exit_code != 0);
  CHECK(o.output.find("cannot hold the resident weights") != std::string::npos);
  o = run(cli() + " run " + model + " --tokens '0 5 9' -n 4 --ram-budget 200M --io-backend pread --cache-policy lfu");
  REQUIRE_MESSAGE(o.exit_code == 0, o.output);
  size_t count = 0;
  for (size_t pos = 0; (pos = o.output.find("not using io_uring", pos)) != std::string::npos; ++pos) ++count;
  CHECK(count == 1);
  CHECK(o.output.find("lfu policy") != std::string::npos);
  CHECK(o.output.find("prefetch: recall") != std::string::npos);
  o = run(cli() + " run " + model + " --tokens '0 5 9' -n 2 --ram-budget 200M --cache-policy fifo");
  CHECK(o.exit_code != 0);
  { std::ofstream(dir.file("hot.txt")) << "# layer expert\n1 0\n2 3\n"; }
  o = run(cli() + " run " + model + " --tokens '0 5 9' -n 2 --ram-budget 200M --pin-profile " + dir.file("hot.txt"));
  REQUIRE_MESSAGE(o.exit_code == 0, o.output);
  CHECK(o.output.find("hot set 2") != std::string::npos);
}

TEST_CASE("bench loader prints loader and fio bandwidths") {
  TempDir dir;
  const std::string model = dir.file("m.mst");
  REQUIRE(run(cli() + " synth --preset tiny --quiet --out " + model).exit_code == 0);
  const Output o = run(cli() + " bench loader " + model + " --seconds 1 --request-size 64K --queue-depth 4 --keep-page-cache");
  REQUIRE_MESSAGE(o.exit_code == 0, o.output);
  CHECK(o.output.find("loader MB/s") != std::string::npos);
  CHECK(o.output.find("loader: io_uring") != std::string::npos);
  const Output throttled = run(cli() + " bench loader " + model + " --seconds 1 --throttle-mbps 50 --no-fio --keep-page-cache");
  REQUIRE_MESSAGE(throttled.exit_code == 0, throttled.output);
  CHECK(throttled.output.find("simulated") != std::string::npos);
}
