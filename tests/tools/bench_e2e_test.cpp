// `bench e2e`: fio and triad bounds, a streamed decode under the budget and the plain-mmap
// baseline in one run, each row with its tok/s, bytes read per token, and ratio to the larger
// bound; inside a kernel memory cgroup where one can be made. Bad flags are usage errors.
#include <doctest/doctest.h>

#include <regex>
#include <string>

#include "support/cli_runner.h"
#include "support/temp_dir.h"

using namespace moestream::testing;

namespace {
std::string cli() { return MOESTREAM_CLI_PATH; }
}  // namespace

TEST_CASE("bench e2e: streamed and mmap decode rows against the fio and triad bounds") {
  TempDir dir;
  const std::string model = dir.file("m.mst");
  REQUIRE(run_shell(cli() + " synth --preset tiny --experts 64 --quiet --out " + model).exit_code == 0);
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
  CHECK(o.output.find("OOM") == std::string::npos);
}

TEST_CASE("bench e2e: a budget is required and flags are checked") {
  TempDir dir;
  const std::string model = dir.file("m.mst");
  REQUIRE(run_shell(cli() + " synth --preset tiny --experts 64 --quiet --out " + model).exit_code == 0);
  CliResult o = run_shell(cli() + " bench e2e " + model);
  CHECK(o.exit_code == 2);
  CHECK(o.output.find("--ram-budget is required") != std::string::npos);
  o = run_shell(cli() + " bench e2e " + model + " --ram-budget 64M --baseline disk");
  CHECK(o.exit_code == 2);
  CHECK(o.output.find("--baseline takes none or mmap") != std::string::npos);
  o = run_shell(cli() + " bench e2e --help");
  CHECK(o.exit_code == 0);
  CHECK(o.output.find("--cgroup") != std::string::npos);
}
