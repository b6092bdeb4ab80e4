// Nothing destroyed, nothing half-written (docs/cli.md, "Outputs"): no command overwrites an
// input, none replaces an existing output without --force, outputs are checked before the
// work starts, SIGTERM mid-write leaves no .partial, a full disk says "disk full" and exits 1
// (standard output included).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/cli_runner.h"
#include "support/file_contents.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

using moestream::testing::CliResult;
using moestream::testing::run_cli;
using moestream::testing::run_shell;

const std::string kCli = MOESTREAM_CLI_PATH;

std::string golden(const std::string& variant) {
  return std::string(MOESTREAM_TEST_DATA_DIR) + "/golden/tinyA/" + variant;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A copy of a golden checkpoint (config copied, shards symlinked) that a test may damage.
std::string copy_checkpoint(const moestream::testing::TempDir& dir, const std::string& variant) {
  const std::string path = dir.file("ck");
  fs::create_directories(path);
  for (const auto& entry : fs::directory_iterator(golden(variant))) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".json")) fs::copy_file(entry.path(), path + "/" + name);
    else fs::create_symlink(fs::absolute(entry.path()), path + "/" + name);
  }
  return path;
}

TEST_CASE("convert never writes into its input checkpoint, even with --force") {
  moestream::testing::TempDir dir;
  const std::string ck = copy_checkpoint(dir, "fp8-v3");
  const std::string config_before = slurp(ck + "/config.json");
  for (const std::string& out : {ck + "/config.json", ck + "/new.mst", ck + "/../ck/config.json"}) {
    CAPTURE(out);
    for (const char* force : {"", " --force"}) {
      const CliResult r = run_cli("convert --quiet " + ck + " " + out + force);
      CHECK(r.exit_code == 1);
      CHECK_MESSAGE(r.output.find("inside the input directory") != std::string::npos, r.output);
    }
  }
  CHECK(slurp(ck + "/config.json") == config_before);
  CHECK_FALSE(fs::exists(ck + "/new.mst"));
}

TEST_CASE("existing outputs are replaced only with --force and an input never") {
  moestream::testing::TempDir dir;
  const std::string model = dir.file("m.mst");
  REQUIRE(run_cli("synth --preset tiny --layers 2 --experts 8 --quiet --out " + model).exit_code == 0);
  const std::string model_bytes = slurp(model);

  CliResult r = run_cli("synth --preset tiny --layers 2 --experts 8 --quiet --seed 2 --out " + model);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("already exists; pass --force") != std::string::npos);
  CHECK(slurp(model) == model_bytes);

  // export-hf: an existing non-empty directory is left alone without --force.
  fs::create_directories(dir.file("hf"));
  std::ofstream(dir.file("hf/notes.txt")) << "mine";
  r = run_cli("export-hf --quiet " + model + " " + dir.file("hf"));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("already exists; pass --force") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.file("hf/config.json")));
  r = run_cli("export-hf --quiet --force " + model + " " + dir.file("hf"));
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(fs::exists(dir.file("hf/config.json")));
  CHECK(slurp(dir.file("hf/notes.txt")) == "mine");
  fs::create_directories(dir.file("empty"));  // an empty directory counts as absent
  CHECK(run_cli("export-hf --quiet " + model + " " + dir.file("empty")).exit_code == 0);

  // logits: refuses an existing --out, and the model itself even with --force.
  std::ofstream(dir.file("l.f32")) << "old";
  r = run_cli("logits " + model + " --tokens 0 --out " + dir.file("l.f32"));
  CHECK(r.exit_code == 1);
  CHECK(slurp(dir.file("l.f32")) == "old");
  r = run_cli("logits " + model + " --tokens 0 --force --out " + model);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("is the input") != std::string::npos);
  CHECK(slurp(model) == model_bytes);
  r = run_cli("logits " + model + " --tokens 0 --force --out " + dir.file("l.f32"));
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(slurp(dir.file("l.f32")) != "old");
  CHECK(run_cli("logits " + model + " --tokens 0 --out /dev/null").exit_code == 0);  // devices are written in place
}

TEST_CASE("outputs are checked before the work starts") {
  moestream::testing::TempDir dir;
  for (const std::string& args :
       {"synth --preset small --quiet --out " + dir.file("missing/s.mst"),
        "synth --preset small --quiet --format hf --out " + dir.file("missing/deeper/hf"),
        "convert --quiet " + golden("fp8-v3") + " " + dir.file("missing/o.mst"),
        "export-hf --quiet " + dir.file("none.mst") + " " + dir.file("missing/deeper/hf"),
        "logits " + dir.file("none.mst") + " --tokens 0 --out " + dir.file("missing/l.f32"),
        "profile " + dir.file("none.mst") + " --prompt-file " + dir.file("p.txt") + " --ram-budget 1G --csv " +
            dir.file("missing/t.csv") + " --trace " + dir.file("t.mstrace")}) {
    CAPTURE(args);
    const CliResult r = run_cli(args);
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(r.output.find("does not exist") != std::string::npos, r.output);
    CHECK(r.output.find("missing") != std::string::npos);
  }
  // A directory where a file goes (and the reverse) is refused up front, too.
  fs::create_directories(dir.file("d"));
  std::ofstream(dir.file("f")) << "x";
  CHECK(run_cli("synth --quiet --out " + dir.file("d")).output.find("is a directory") != std::string::npos);
  CHECK(run_cli("synth --quiet --format hf --force --out " + dir.file("f")).output.find("not a directory") !=
        std::string::npos);
}

TEST_CASE("SIGTERM during synth and during synth --format hf's export leaves no partial output") {
  moestream::testing::TempDir dir;
  // Waits for WATCH to appear, then sends SIGTERM; prints the exit status and what is left.
  auto interrupt = [&](const std::string& args, const std::string& watch) {
    return run_shell("cd " + dir.path().string() + " && (" + kCli + " " + args +
                     " & pid=$!; i=0; while [ ! -e " + watch + " ] && [ $i -lt 3000 ]; do sleep 0.005; i=$((i+1)); done; "
                     "kill -TERM $pid; wait $pid; echo rc=$?; ls -A; echo end)");
  };
  CliResult r = interrupt("synth --preset small --quiet --out s.mst", "s.mst.partial");
  CHECK_MESSAGE(r.output.find("rc=143\nend") != std::string::npos, r.output);  // killed by SIGTERM, nothing left

  r = interrupt("synth --preset small --quiet --format hf --out hf", "hf.partial");
  CHECK_MESSAGE(r.output.find("rc=143\n") != std::string::npos, r.output);
  CHECK_MESSAGE(r.output.find(".partial") == std::string::npos, r.output);
  CHECK(r.output.find(".synth-tmp") == std::string::npos);
  CHECK(r.output.find("safetensors") == std::string::npos);
}

TEST_CASE("a full disk is 'disk full' with exit 1 and no partial file (standard output included)") {
  const std::string tokenizer = std::string(MOESTREAM_SOURCE_DIR) + "/third_party/deepseek-v3-tokenizer/tokenizer.json";
  CliResult r = run_shell("sh -c '" + kCli + " tokenize " + tokenizer + " --text hello > /dev/full'");  // stderr kept
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(r.output.find("disk full") != std::string::npos, r.output);
  CHECK(r.output.find("standard output") != std::string::npos);

  if (run_shell("unshare -m true").exit_code != 0) {
    MESSAGE("skipped the tmpfs part: cannot create a mount namespace here");
    return;
  }
  moestream::testing::TempDir dir;
  const std::string model = dir.file("m.mst");
  REQUIRE(run_cli("synth --preset tiny --layers 2 --experts 8 --quiet --out " + model).exit_code == 0);
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "word" + std::to_string(i) + " ";
  std::ofstream(dir.file("big.txt")) << text;
  // A 16 KiB tmpfs: the logits (3 x vocab floats) and the token ids do not fit.
  r = run_shell("unshare -m sh -c 'd=$(mktemp -d) && mount -t tmpfs -o size=16k tmpfs $d && " + kCli + " logits " +
                model + " --tokens \"0 1 2\" --out $d/l.f32; echo rc=$?; " + kCli + " tokenize " + tokenizer +
                " --text-file " + dir.file("big.txt") + " > $d/ids.txt; echo rc=$?; rm -f $d/ids.txt; ls -A $d; echo end'");
  CHECK_MESSAGE(r.output.find("rc=1\n") != std::string::npos, r.output);
  CHECK(r.output.find("disk full") != std::string::npos);
  CHECK(r.output.find("rc=0") == std::string::npos);
  CHECK_MESSAGE(r.output.find("rc=1\nend") != std::string::npos, r.output);  // nothing left behind
}

}  // namespace
