// bench/llama-cpp/mst_to_gguf.py (the llama.cpp side of the benchmarks, built on `inspect --json
// --tensors`): the GGUF it writes from a converted checkpoint holds the checkpoint's weights,
// checked by tests/tools/gguf_check.py, which reads the GGUF and the safetensors on its own.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/cli_runner.h"
#include "support/file_contents.h"
#include "support/temp_dir.h"

namespace {

using moestream::testing::run_cli;
using moestream::testing::run_shell;

TEST_CASE("mst_to_gguf writes the checkpoint's weights as a deepseek2 GGUF within Q8_0's rounding") {
  moestream::testing::TempDir dir;
  const std::string hf = std::string(MOESTREAM_TEST_DATA_DIR) + "/golden/tinyA/fp8-v3";
  const std::string mst = dir.file("m.mst"), gguf = dir.file("m.gguf");
  REQUIRE(run_cli("convert --quiet " + hf + " " + mst).exit_code == 0);
  const std::string source = MOESTREAM_SOURCE_DIR;
  auto r = run_shell("/usr/bin/python3 " + source + "/bench/llama-cpp/mst_to_gguf.py " + mst + " " + gguf +
                     " --moestream " + MOESTREAM_CLI_PATH);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find("wrote " + gguf + ": 52 tensors") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(gguf + ".partial"));
  r = run_shell("/usr/bin/python3 " + source + "/tests/tools/gguf_check.py " + gguf + " " + hf);
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find("gguf ok: 52 tensors") != std::string::npos);

  // The BF16 head is the checkpoint's bytes exactly (gguf_check compares non-Q8_0 tensors bit for bit).
  r = run_shell("/usr/bin/python3 " + source + "/bench/llama-cpp/mst_to_gguf.py " + mst + " " + gguf +
                "2 --head bf16 --moestream " + MOESTREAM_CLI_PATH);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  r = run_shell("/usr/bin/python3 " + source + "/tests/tools/gguf_check.py " + gguf + "2 " + hf);
  CHECK_MESSAGE(r.exit_code == 0, r.output);
}

TEST_CASE("mst_to_gguf refuses what it cannot convert with a message and leaves no output") {
  moestream::testing::TempDir dir;
  const std::string hf = std::string(MOESTREAM_TEST_DATA_DIR) + "/golden/tinyA/fp8-v3";
  const std::string converter = "/usr/bin/python3 " + std::string(MOESTREAM_SOURCE_DIR) +
                                "/bench/llama-cpp/mst_to_gguf.py --moestream " + MOESTREAM_CLI_PATH + " ";
  const std::string gguf = dir.file("out.gguf");
  auto no_output = [&] { return !std::filesystem::exists(gguf) && !std::filesystem::exists(gguf + ".partial"); };

  const std::string zstd = dir.file("zstd.mst");
  REQUIRE(run_cli("convert --quiet --compress zstd " + hf + " " + zstd).exit_code == 0);
  auto r = run_shell(converter + zstd + " " + gguf);
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(r.output.find("zstd-compressed, which this converter does not read") != std::string::npos, r.output);
  CHECK(no_output());

  const std::string damaged = dir.file("damaged.mst");
  std::filesystem::copy_file(zstd, damaged);
  std::filesystem::resize_file(damaged, std::filesystem::file_size(damaged) / 2);
  r = run_shell(converter + damaged + " " + gguf);
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(r.output.find("moestream inspect could not read " + damaged) != std::string::npos, r.output);
  CHECK(no_output());

  const std::string mst = dir.file("m.mst");
  REQUIRE(run_cli("convert --quiet " + hf + " " + mst).exit_code == 0);
  { std::ofstream(gguf) << "keep me"; }
  r = run_shell(converter + mst + " " + gguf);
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(r.output.find("exists (--force replaces it)") != std::string::npos, r.output);
  CHECK(moestream::testing::read_file(gguf) == "keep me");
  CHECK(run_shell(converter + mst + " " + gguf + " --force").exit_code == 0);
  CHECK(moestream::testing::read_file(gguf).rfind("GGUF", 0) == 0);
}

}  // namespace
