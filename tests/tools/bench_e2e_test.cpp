// `bench e2e`: fio and triad bounds, a streamed decode under the budget and the plain-mmap
// baseline in one run, each row with its tok/s, bytes read per token, and ratio to the larger
// bound; inside a kernel memory cgroup where one can be made. Bad flags are usage errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <vector>
#include <string>

#include "support/cli_runner.h"
#include "support/temp_dir.h"

using namespace moestream::testing;

namespace {
std::string cli() { return MOESTREAM_CLI_PATH; }
}  // namespace

TEST_CASE("bench e2e: streamed and mmap decode rows against the fio and triad bounds") {
  TempDir dir;
  const std::string model = synth_tiny_model(dir.file("m.mst"), 64);
  // 512 MiB holds the tiny model (with room for ASan), its cache and the process: the cgroup run must not be killed.
  const CliResult o = run_shell(cli() + " bench e2e " + model +
                                " --ram-budget 512M --cgroup --baseline mmap --new-tokens 6 --fio-seconds 1 "
                                "--triad-mb 16 --triad-seconds 0.05 --threads 1");
  REQUIRE_MESSAGE(o.exit_code == 0, o.output);
  CHECK(std::regex_search(o.output, std::regex("triad: [0-9.]+ GB/s")));
  CHECK(std::regex_search(o.output, std::regex("fio: ")));
  CHECK(std::regex_search(o.output, std::regex("(cgroup v[12] memory limit 512.0 MiB|no cgroup: )")));
  std::smatch m;
  // Both rows, each with a positive tok/s and a ratio; the streamed one has a hit rate.
  REQUIRE_MESSAGE(std::regex_search(o.output, m, std::regex("\\| streaming \\| ([0-9.]+) \\| [0-9.]+ \\| [^|]+ \\| ([0-9.]+)% \\|[^\\n]*\\| ([0-9.]+) \\|")),
                  o.output);
  CHECK(std::stod(m[1]) > 0);
  CHECK(std::stod(m[2]) <= 100.0);
  CHECK(std::stod(m[3]) > 0);
  REQUIRE(std::regex_search(o.output, m, std::regex("\\| mmap \\| ([0-9.]+) \\| [0-9.]+ \\| [^|]+ \\| - \\|")));
  CHECK(std::stod(m[1]) > 0);
  CHECK(o.output.find("5 decode tokens per run") != std::string::npos);
  // The read-only bound and the step by operation: every kind has a time, the MoE a rate.
  CHECK(std::regex_search(o.output, std::regex("read: [0-9.]+ GB/s")));
  CHECK(std::regex_search(o.output, std::regex("against the read stream \\([0-9.]+ GB/s\\): memory bound [0-9.]+ ms")));
  std::smatch op;
  REQUIRE(std::regex_search(o.output, op, std::regex("\\| MoE \\(router, shared and routed experts\\) \\| ([0-9.]+) \\| [0-9.]+% \\| [^|]+ \\| ([0-9.]+) \\|")));
  CHECK(std::stod(op[1]) > 0);
  CHECK(std::stod(op[2]) > 0);
  CHECK(std::regex_search(o.output, std::regex("\\| attention \\| [0-9.]+ \\|")));
  CHECK(std::regex_search(o.output, std::regex("\\| output head \\| [0-9.]+ \\|")));
  // The mmap baseline has no expert reads to time: its disk columns are empty.
  const size_t mmap_table = o.output.find("mmap: a decode step by operation");
  REQUIRE(mmap_table != std::string::npos);
  CHECK(std::regex_search(o.output.substr(mmap_table), std::regex("\\| attention \\| [^\\n]*\\| - \\| - \\|")));
  CHECK(o.output.find("OOM") == std::string::npos);
}

TEST_CASE("bench e2e: the step by operation counts every decode step and shows where the disk had a read in flight") {
  TempDir dir;
  const std::string model = synth_tiny_model(dir.file("m.mst"), 64);
  // The smallest budget the plan takes: few slots, so the decode steps read experts.
  const std::string flags = " --new-tokens 8 --fio-seconds 0 --triad-mb 16 --triad-seconds 0.05 --threads 1";
  CliResult o = run_shell(cli() + " bench e2e " + model + " --ram-budget 1M" + flags);
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(o.output, m, std::regex("it needs at least ([0-9.]+) MiB")), o.output);
  const double budget_mib = std::stod(m[1]) + 1;
  o = run_shell(cli() + " bench e2e " + model + " --ram-budget " + std::to_string(budget_mib) + "M" + flags);
  REQUIRE_MESSAGE(o.exit_code == 0, o.output);
  CHECK(o.output.find("streaming: a decode step by operation (7 steps;") != std::string::npos);  // 8 tokens, 7 decode steps
  // Each operation's share of time with a read in flight is a percentage; the MoE read experts.
  for (const char* op : {"attention", "dense FFN", "output head"}) {
    REQUIRE_MESSAGE(std::regex_search(o.output, m, std::regex(std::string("\\| ") + op + " \\| [0-9.]+ \\| [0-9.]+% \\| [^|]+ \\| [^|]+ \\| ([0-9]+)% \\| [^|]+ \\|")), o.output);
    CHECK(std::stoi(m[1]) <= 100);
  }
  REQUIRE(std::regex_search(o.output, m, std::regex("\\| MoE \\(router, shared and routed experts\\) \\| [0-9.]+ \\| [0-9.]+% \\| [^|]+ \\| [^|]+ \\| ([0-9]+)% \\| ([0-9.]+) (B|KiB|MiB) \\|")));
  CHECK(std::stoi(m[1]) > 0);
  CHECK(std::stoi(m[1]) <= 100);
  CHECK(std::stod(m[2]) > 0);
  REQUIRE_MESSAGE(std::regex_search(o.output, m, std::regex("streaming: the disk had a read in flight ([0-9.]+) of the ([0-9.]+) ms step "
                                                            "\\(([0-9]+)%\\) and read ([0-9.]+) GB/s then; idle ([0-9.]+) ms, ([0-9.]+) of them in the output head")),
                  o.output);
  const double busy = std::stod(m[1]), step = std::stod(m[2]), idle = std::stod(m[5]), head_idle = std::stod(m[6]);
  CHECK(busy > 0);
  CHECK(busy <= step + 0.05);
  CHECK(std::abs(idle - (step - busy)) <= 0.15);  // each printed to 0.1 ms
  CHECK(head_idle <= idle + 0.05);
  CHECK(std::stod(m[4]) > 0);
}

TEST_CASE("bench e2e --paired-read compares every decode step with a read stream measured next to it") {
  TempDir dir;
  const std::string model = synth_tiny_model(dir.file("m.mst"), 16);
  const CliResult o = run_shell(cli() + " bench e2e " + model +
                                " --ram-budget 512M --new-tokens 7 --fio-seconds 0 --triad-mb 16 --triad-seconds 0.05 "
                                "--paired-read 0.2");
  REQUIRE_MESSAGE(o.exit_code == 0, o.output);
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(o.output, m, std::regex("streaming, paired with a 0.20 s read stream between steps "
                                                            "\\(([0-9]+) steps\\): each step at ([0-9.]+) of the memory "
                                                            "bound next to it \\(median; least ([0-9.]+), most ([0-9.]+)\\); "
                                                            "the read stream ran at ([0-9.]+) GB/s")),
                  o.output);
  CHECK(std::stoi(m[1]) == 6);  // the decode steps after the first
  CHECK(std::stod(m[2]) > 0);
  CHECK(std::stod(m[3]) <= std::stod(m[2]));
  CHECK(std::stod(m[2]) <= std::stod(m[4]));
  CHECK(std::stod(m[5]) > 0);
  // The streams' 200 ms are not in the steps: the row's ms/token is that of the steps alone.
  REQUIRE(std::regex_search(o.output, m, std::regex("\\| streaming \\| [0-9.]+ \\| ([0-9.]+) \\|")));
  CHECK(std::stod(m[1]) < 200.0);
  const CliResult bad = run_shell(cli() + " bench e2e " + model + " --ram-budget 512M --paired-read -1");
  CHECK(bad.exit_code == 2);
}

TEST_CASE("bench e2e --baseline prefetch-off --rounds 3: both arms in turn, each arm's spread and every round's ratio") {
  TempDir dir;
  const std::string model = synth_tiny_model(dir.file("m.mst"), 64);
  const CliResult o = run_shell(cli() + " bench e2e " + model +
                                " --ram-budget 512M --baseline prefetch-off --rounds 3 --new-tokens 6 --fio-seconds 0 "
                                "--triad-mb 16 --triad-seconds 0.05 --threads 1");
  REQUIRE_MESSAGE(o.exit_code == 0, o.output);
  // ABBA: streaming #1, off #1, off #2, streaming #2, streaming #3, off #3 (rows in the order run).
  const std::string rows[] = {"| streaming #1 |", "| prefetch off #1 |", "| prefetch off #2 |",
                              "| streaming #2 |",  "| streaming #3 |",    "| prefetch off #3 |"};
  size_t at = 0;
  for (const std::string& row : rows) {
    const size_t found = o.output.find(row, at);
    REQUIRE_MESSAGE(found != std::string::npos, (row + " in order\n" + o.output));
    at = found;
  }
  std::smatch m;
  for (const char* arm : {"streaming", "prefetch off"}) {
    REQUIRE_MESSAGE(std::regex_search(o.output, m, std::regex(std::string(arm) + ", 3 rounds: ([0-9.]+) tok/s median "
                                                              "\\(least ([0-9.]+), most ([0-9.]+)\\)")),
                    o.output);
    CHECK(std::stod(m[2]) <= std::stod(m[1]));
    CHECK(std::stod(m[1]) <= std::stod(m[3]));
    CHECK(std::stod(m[2]) > 0);
  }
  REQUIRE(std::regex_search(o.output, m, std::regex("streaming / prefetch off, round by round: ([0-9.]+) ([0-9.]+) "
                                                    "([0-9.]+); median ([0-9.]+), at least as fast in ([0-3]) of 3 rounds")));
  // The median of the three ratios is the middle one.
  std::vector<double> ratios{std::stod(m[1]), std::stod(m[2]), std::stod(m[3])};
  std::sort(ratios.begin(), ratios.end());
  CHECK(std::stod(m[4]) == doctest::Approx(ratios[1]).epsilon(0.01));
  // A ratio printed as 1.00 may be just under 1 (printed to two places): either count is right.
  const int faster = static_cast<int>(std::count_if(ratios.begin(), ratios.end(), [](double r) { return r > 1.0; }));
  const int even = static_cast<int>(std::count(ratios.begin(), ratios.end(), 1.0));
  CHECK(std::stoi(m[5]) >= faster);
  CHECK(std::stoi(m[5]) <= faster + even);
  // The prefetch-off arm read no guesses: only the streamed rounds print their guesses.
  CHECK(o.output.find("prefetch off #1: ") == std::string::npos);
  CHECK(o.output.find("streaming (3 rounds): a decode step by operation") != std::string::npos);
  CHECK(o.output.find("prefetch off (3 rounds): a decode step by operation") != std::string::npos);
}

TEST_CASE("bench e2e: a budget is required and flags are checked") {
  TempDir dir;
  const std::string model = synth_tiny_model(dir.file("m.mst"), 64);
  CliResult o = run_shell(cli() + " bench e2e " + model);
  CHECK(o.exit_code == 2);
  CHECK(o.output.find("--ram-budget is required") != std::string::npos);
  o = run_shell(cli() + " bench e2e " + model + " --ram-budget 64M --baseline disk");
  CHECK(o.exit_code == 2);
  CHECK(o.output.find("--baseline takes none, mmap or prefetch-off") != std::string::npos);
  o = run_shell(cli() + " bench e2e " + model + " --ram-budget 64M --baseline prefetch-off --prefetch-margin -1");
  CHECK(o.exit_code == 2);
  CHECK(o.output.find("compares against prefetch on") != std::string::npos);
  o = run_shell(cli() + " bench e2e " + model + " --ram-budget 64M --rounds 0");
  CHECK(o.exit_code == 2);
  CHECK(o.output.find("--rounds") != std::string::npos);
  o = run_shell(cli() + " bench e2e --help");
  CHECK(o.exit_code == 0);
  CHECK(o.output.find("--cgroup") != std::string::npos);
}
