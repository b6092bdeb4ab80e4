// Damaged weights are never used silently (--verify-on-load, docs/cli.md): a flipped byte in
// any kind of resident tensor, or in an expert blob whether experts are resident or streamed,
// is an error naming it before it can change an answer; `--verify-on-load off` shows the
// damage would otherwise have gone through.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "format/container_reader.h"
#include "support/cli_runner.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using moestream::testing::CliResult;
using moestream::testing::run_cli;

void flip_byte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x04);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

std::string logits(const std::string& model, const std::string& out, const std::string& extra = "") {
  return "logits " + model + " --tokens '0 5 9 100 200 7' --force --out " + out + extra;
}

TEST_CASE("a flipped byte in each kind of resident tensor is caught at load") {
  moestream::testing::TempDir dir;
  const std::string good = dir.file("good.mst");
  REQUIRE(run_cli("synth --preset tiny --layers 2 --experts 8 --quiet --out " + good).exit_code == 0);
  REQUIRE(run_cli(logits(good, dir.file("good.f32"))).exit_code == 0);
  auto reader = moestream::ContainerReader::open(good);
  REQUIRE(reader.ok());
  for (const char* name : {"model.embed_tokens.weight", "model.layers.0.self_attn.kv_a_proj_with_mqa.weight",
                           "model.layers.0.input_layernorm.weight", "model.layers.1.mlp.gate.weight",
                           "model.layers.1.mlp.gate.e_score_correction_bias",
                           "model.layers.1.mlp.shared_experts.down_proj.weight", "lm_head.weight", "model.norm.weight"}) {
    CAPTURE(name);
    auto t = (*reader)->tensor(name);
    REQUIRE_MESSAGE(t.ok(), t.status().to_string());
    const std::string bad = dir.file("bad.mst");
    fs::copy_file(good, bad, fs::copy_options::overwrite_existing);
    flip_byte(bad, static_cast<uint64_t>(static_cast<const uint8_t*>(t->data) - (*reader)->file().data()) + t->data_bytes / 2);
    CliResult r = run_cli(logits(bad, dir.file("bad.f32")));
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(r.output.find(std::string("tensor \"") + name + "\": checksum mismatch") != std::string::npos, r.output);
    CHECK_FALSE(fs::exists(dir.file("bad.f32")));
    r = run_cli(logits(bad, dir.file("bad.f32"), " --verify-on-load off"));  // what happened before
    CHECK(r.exit_code == 0);
    fs::remove(dir.file("bad.f32"));
  }
}

TEST_CASE("a flipped byte in an expert is caught before use: resident, streamed, and by full at load") {
  moestream::testing::TempDir dir;
  const std::string good = dir.file("good.mst");
  REQUIRE(run_cli("synth --preset tiny --layers 2 --experts 8 --quiet --out " + good).exit_code == 0);
  auto reader = moestream::ContainerReader::open(good);
  REQUIRE(reader.ok());
  const std::string bad = dir.file("bad.mst");
  fs::copy_file(good, bad);
  for (int64_t e = 0; e < 8; ++e) {  // every expert of layer 1: whichever the router picks is damaged
    auto blob = (*reader)->expert_blob(1, e);
    REQUIRE(blob.ok());
    flip_byte(bad, blob->offset + blob->stored_size / 3);
  }
  for (const std::string mode : {"", " --verify-on-load full", " --ram-budget 512M"}) {  // 512M: room for ASan builds too
    CAPTURE(mode);
    const CliResult r = run_cli(logits(bad, dir.file("bad.f32"), mode));
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(r.output.find("expert") != std::string::npos, r.output);
    CHECK(r.output.find("checksum") != std::string::npos);
  }
  CHECK(run_cli(logits(bad, dir.file("bad.f32"), " --verify-on-load off")).exit_code == 0);
  // Only full looks at experts no token routes to.
  const std::string one = dir.file("one.mst");
  fs::copy_file(good, one);
  auto blob = (*reader)->expert_blob(1, 7);
  REQUIRE(blob.ok());
  flip_byte(one, blob->offset + 5);
  const CliResult full = run_cli(logits(one, dir.file("one.f32"), " --verify-on-load full"));
  CHECK(full.exit_code == 1);
  CHECK(full.output.find("expert 7") != std::string::npos);
  CHECK(run_cli(logits(one, dir.file("one.f32"), " --verify-on-load sometimes")).exit_code == 2);
}

}  // namespace
