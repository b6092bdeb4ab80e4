// `moestream bench kernels` on the smallest attention shape (table, triad ratio, XNNPACK row,
// summary line) and `--threads` on logits: the same bytes for 1 and 2 kernel threads.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "support/cli_runner.h"
#include "support/file_contents.h"
#include "support/temp_dir.h"

using namespace moestream::testing;

namespace {

using Output = CliResult;

Output run(const std::string& command) { return run_shell(command); }

const std::string kCli = MOESTREAM_CLI_PATH;

}  // namespace

TEST_CASE("bench kernels prints GEMV bandwidth against the triad, GEMM and XNNPACK rows, and a summary") {
  const Output o = run(kCli + " bench kernels --shapes kv_a_proj --seconds 0.02 --repeat 1 --triad-mb 16 --rotate-mb 16 "
                              "--batch 12 --few 3 --threads 2 --no-model");
  REQUIRE_MESSAGE(o.exit_code == 0, o.output);
  CHECK(o.output.find("triad:") != std::string::npos);
  CHECK(o.output.find("| fp8 gemv avx2") != std::string::npos);
  CHECK(o.output.find("| fp8 gemv-n avx2") != std::string::npos);
  CHECK(o.output.find("| fp8 gemm avx2") != std::string::npos);
  CHECK(o.output.find("| xnnpack f32 fc") != std::string::npos);
  CHECK(o.output.find("bench kernels: triad") != std::string::npos);
  CHECK(run(kCli + " bench kernels --repeat 0").exit_code != 0);
  CHECK(run(kCli + " bench kernels --few 0").exit_code != 0);
}

TEST_CASE("logits --threads gives the same logits for 1 and 2 kernel threads and refuses bad values") {
  TempDir dir;
  const std::string model = dir.file("m.mst");
  REQUIRE(run(kCli + " synth --preset tiny --quiet --out " + model).exit_code == 0);
  for (const char* threads : {"1", "2"}) {
    const Output o = run(kCli + " logits " + model + " --tokens '0 5 9 100 7' --threads " + threads + " --out " +
                         dir.file(std::string("t") + threads + ".f32"));
    REQUIRE_MESSAGE(o.exit_code == 0, o.output);
  }
  const std::string one = read_file(dir.file("t1.f32")), two = read_file(dir.file("t2.f32"));
  CHECK(!one.empty());
  CHECK(one == two);
  const Output bad = run(kCli + " logits " + model + " --tokens '0' --threads -1 --out " + dir.file("x.f32"));
  CHECK(bad.exit_code != 0);
  CHECK(bad.output.find("--threads") != std::string::npos);
}
