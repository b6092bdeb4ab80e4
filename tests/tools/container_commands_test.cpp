// End-to-end tests of convert / inspect / verify / export-hf / synth through the CLI binary:
// exit codes, messages, and that failures leave no output behind.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "format/checksum.h"
#include "support/cli_runner.h"
#include "support/file_contents.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

using RunResult = moestream::testing::CliResult;
using moestream::testing::run_shell;

RunResult cli(const std::string& args) { return moestream::testing::run_cli(args); }

std::string golden(const std::string& variant) {
  return std::string(MOESTREAM_TEST_DATA_DIR) + "/golden/tinyA/" + variant;
}

void flip_byte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x10);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

TEST_CASE("convert, inspect --json, verify and export-hf work end to end") {
  moestream::testing::TempDir dir;
  const std::string mst = dir.file("m.mst");
  RunResult r = cli("convert " + golden("fp8-v31-ue8m0") + " " + mst);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find("converted") != std::string::npos);
  CHECK(r.output.find("peak RSS") != std::string::npos);
  r = cli("verify " + mst);
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find("OK") != std::string::npos);
  r = run_shell(std::string(MOESTREAM_CLI_PATH) + " inspect --json " + mst + " 2>/dev/null");
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  CHECK(j["config"]["hidden_size"] == 256);
  CHECK(j["experts"]["count"] == 96);
  CHECK(j["expert_layers"][0]["scale_format"] == "UE8M0");
  CHECK(j["provenance"]["tool"] == "moestream convert");
  r = cli("inspect " + mst);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("scale_fmt ue8m0") != std::string::npos);
  r = cli("export-hf " + mst + " " + dir.file("hf"));
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(fs::exists(dir.file("hf/model.safetensors.index.json")));
  CHECK(fs::exists(dir.file("hf/model-00004-of-000004.safetensors")));
}

// The checksum of `size` bytes of `file` at `offset` (0 when they run past its end).
uint64_t checksum_at(const std::string& file, uint64_t offset, uint64_t size) {
  return offset <= file.size() && size <= file.size() - offset ? moestream::xxh3_64(file.data() + offset, size) : 0;
}

TEST_CASE("inspect --json --tensors says where every weight, scale and expert blob lies") {
  moestream::testing::TempDir dir;
  const std::string mst = dir.file("m.mst");
  REQUIRE(cli("convert --quiet " + golden("fp8-v3") + " " + mst).exit_code == 0);
  RunResult r = run_shell(std::string(MOESTREAM_CLI_PATH) + " inspect --json --tensors " + mst + " 2>/dev/null");
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  const std::string file = moestream::testing::read_file(mst);  // the printed places must hold the printed checksums
  int scaled = 0;
  for (const auto& t : j["tensors"]) {
    CHECK(checksum_at(file, t["offset"], t["size"]) == t["checksum"].get<uint64_t>());
    if (t["scale_size"].get<uint64_t>() == 0) continue;
    ++scaled;
    CHECK(t["block"] == nlohmann::json::array({128, 128}));
    CHECK(checksum_at(file, t["scale_offset"], t["scale_size"]) == t["scale_checksum"].get<uint64_t>());
  }
  CHECK(scaled > 0);
  const int64_t experts = j["config"]["n_routed_experts"];
  const int64_t hidden = j["config"]["hidden_size"], inter = j["config"]["moe_intermediate_size"];
  REQUIRE(j["expert_layers"].size() > 0);
  for (const auto& layer : j["expert_layers"]) {
    REQUIRE(static_cast<int64_t>(layer["blobs"].size()) == experts);
    for (const auto& b : layer["blobs"]) {
      CHECK(b["offset"].get<uint64_t>() % 4096 == 0);
      CHECK(b["compression"] == "none");
      CHECK(checksum_at(file, b["offset"], b["stored_size"]) == b["checksum"].get<uint64_t>());
      CHECK(b["gate"]["shape"] == nlohmann::json::array({inter, hidden}));
      CHECK(b["down"]["shape"] == nlohmann::json::array({hidden, inter}));
      for (const char* part : {"gate", "up", "down"}) {
        const auto& p = b[part];
        CHECK(p["dtype"] == "F8_E4M3");
        CHECK(p["data_offset"].get<uint64_t>() + p["data_size"].get<uint64_t>() <= b["raw_size"].get<uint64_t>());
        CHECK(p["scale_offset"].get<uint64_t>() + p["scale_size"].get<uint64_t>() <= b["raw_size"].get<uint64_t>());
      }
    }
  }
}

TEST_CASE("verify exits non-zero and names the damage for each corruption") {
  moestream::testing::TempDir dir;
  const std::string good = dir.file("good.mst");
  REQUIRE(cli("convert --quiet " + golden("fp8-v3") + " " + good).exit_code == 0);
  auto j = nlohmann::json::parse(run_shell(std::string(MOESTREAM_CLI_PATH) + " inspect --json " + good +
                                           " 2>/dev/null").output);
  const uint64_t header_offset = j["header"]["offset"];
  const uint64_t size = j["file_size"];
  const uint64_t tensor_offset = j["tensors"][0]["offset"];
  struct Case {
    const char* name;
    std::function<void(const std::string&)> damage;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"truncated", [&](const std::string& p) { fs::resize_file(p, size - 5000); }, "truncated"},
      {"wrong magic", [](const std::string& p) { flip_byte(p, 1); }, "magic"},
      {"flipped header byte", [&](const std::string& p) { flip_byte(p, header_offset + 100); }, "header"},
      {"flipped tensor byte", [&](const std::string& p) { flip_byte(p, tensor_offset + 17); }, "checksum"},
      {"flipped blob byte", [&](const std::string& p) { flip_byte(p, header_offset - 4096 * 3 + 5); }, "expert"},
  };
  for (const Case& c : cases) {
    const std::string bad = dir.file("bad.mst");
    fs::copy_file(good, bad, fs::copy_options::overwrite_existing);
    c.damage(bad);
    RunResult r = cli("verify --quiet " + bad);
    CHECK_MESSAGE(r.exit_code == 1, c.name, ": ", r.output);
    CHECK_MESSAGE(r.output.find(bad) != std::string::npos, c.name, ": ", r.output);
    CHECK_MESSAGE(r.output.find(c.expect) != std::string::npos, c.name, ": ", r.output);
  }
}

TEST_CASE("convert reports a missing checkpoint and leaves no output") {
  moestream::testing::TempDir dir;
  RunResult r = cli("convert --quiet " + dir.file("nothing") + " " + dir.file("o.mst"));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("nothing") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.file("o.mst")));
  CHECK_FALSE(fs::exists(dir.file("o.mst.partial")));
  CHECK(cli("convert --compress lz4 " + golden("bf16") + " " + dir.file("o.mst")).exit_code != 0);
}

TEST_CASE("convert into a file-size limit fails cleanly, names the tensor, leaves nothing") {
  moestream::testing::TempDir dir;
  // SIGXFSZ ignored, so the write fails with EFBIG like a full disk fails with ENOSPC.
  RunResult r = run_shell("trap '' XFSZ; ulimit -f 8000; " + std::string(MOESTREAM_CLI_PATH) +
                          " convert --quiet " + golden("fp8-v3") + " " + dir.file("o.mst"));
  CHECK_MESSAGE(r.exit_code == 1, r.output);
  CHECK(r.output.find("o.mst.partial") != std::string::npos);
  CHECK((r.output.find("tensor") != std::string::npos || r.output.find("expert") != std::string::npos));
  CHECK_FALSE(fs::exists(dir.file("o.mst")));
  CHECK_FALSE(fs::exists(dir.file("o.mst.partial")));
}

TEST_CASE("convert onto a full disk fails with 'disk full', names the tensor, leaves nothing") {
  // A private mount namespace with an 8 MB tmpfs; needs root (skipped otherwise).
  if (run_shell("unshare -m true").exit_code != 0) {
    MESSAGE("skipped: cannot create a mount namespace here");
    return;
  }
  RunResult r = run_shell("unshare -m sh -c 'd=$(mktemp -d) && mount -t tmpfs -o size=8m tmpfs $d && " +
                          std::string(MOESTREAM_CLI_PATH) + " convert --quiet " + golden("fp8-v3") +
                          " $d/o.mst; echo rc=$?; ls -A $d; echo end'");
  CHECK_MESSAGE(r.output.find("rc=1") != std::string::npos, r.output);
  CHECK(r.output.find("disk full") != std::string::npos);
  CHECK(r.output.find("model.layers.") != std::string::npos);  // names the tensor / expert
  CHECK_MESSAGE(r.output.find("rc=1\nend") != std::string::npos, r.output);  // the directory is empty
}

TEST_CASE("synth writes verifiable containers and HF checkpoints that convert back") {
  moestream::testing::TempDir dir;
  RunResult r = cli("synth --preset tiny --layers 2 --experts 8 --quiet --out " + dir.file("s.mst"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find("peak RSS") != std::string::npos);
  CHECK(cli("verify --quiet " + dir.file("s.mst")).exit_code == 0);
  auto j = nlohmann::json::parse(run_shell(std::string(MOESTREAM_CLI_PATH) + " inspect --json " +
                                           dir.file("s.mst") + " 2>/dev/null").output);
  CHECK(j["config"]["num_hidden_layers"] == 2);
  CHECK(j["config"]["n_routed_experts"] == 8);
  CHECK(j["experts"]["count"] == 16);  // layer 1 and the MTP layer 2
  CHECK(j["tokenizer"]["tokenizer_json_bytes"] > 100000);  // the built-in tokenizer cut to 2,048 ids
  r = cli("synth --preset tiny --layers 2 --experts 8 --ue8m0 --format hf --quiet --out " + dir.file("hf"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK_FALSE(fs::exists(dir.file("hf/.synth-tmp.mst")));
  r = cli("convert --quiet " + dir.file("hf") + " " + dir.file("back.mst"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(cli("verify --quiet " + dir.file("back.mst")).exit_code == 0);
  CHECK(cli("synth --preset huge --out " + dir.file("x.mst")).exit_code != 0);
}

TEST_CASE("every container synth writes runs: odd expert counts and a text prompt on tiny") {
  moestream::testing::TempDir dir;
  for (const char* experts : {"3", "8"}) {
    CAPTURE(experts);
    const std::string model = dir.file(std::string("e") + experts + ".mst");
    RunResult r = cli(std::string("synth --preset tiny --layers 2 --quiet --experts ") + experts + " --out " + model);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    r = cli("run " + model + " --prompt 'Hello, world' -n 2 --text");
    CHECK_MESSAGE(r.exit_code == 0, r.output);
  }
}

}  // namespace
