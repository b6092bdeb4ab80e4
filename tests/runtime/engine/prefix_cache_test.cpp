// The prefix cache through the engine: a shared 200-token prefix is served from cached KV
// blocks (RAM, then disk after a restart) with the answers of a cold run; damaged or foreign
// block files are skipped with a warning and change nothing.
#include "runtime/engine/prefix_cache.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "runtime/engine/engine.h"
#include "../../support/golden_fixture.h"
#include "../../support/temp_dir.h"

using namespace moestream;
using namespace moestream::testing;

namespace {

std::vector<int32_t> tokens(size_t n, uint32_t seed) {
  std::vector<int32_t> t = {1};
  uint32_t x = seed;
  while (t.size() < n) {
    x = x * 1664525u + 1013904223u;
    t.push_back(static_cast<int32_t>(2 + (x >> 8) % 2000));
  }
  return t;
}

struct Answer {
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  int64_t hit = 0, miss = 0;
};

Answer ask(Engine& engine, std::vector<int32_t> prompt) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.max_tokens = 6;
  r.ignore_eos = true;
  r.logprobs = true;
  Answer a;
  r.on_token = [&](const TokenEvent& e) {
    if (e.token >= 0) a.logprobs.push_back(e.logprob);
  };
  GenerationResult res = engine.generate(std::move(r));
  REQUIRE_MESSAGE(res.finish == FinishReason::kLength, res.error.to_string());
  a.tokens = res.tokens;
  a.hit = res.usage.prompt_cache_hit_tokens;
  a.miss = res.usage.prompt_cache_miss_tokens;
  return a;
}

std::unique_ptr<Engine> open(const std::string& model, uint64_t ram, const std::string& dir,
                             std::vector<std::string>* log = nullptr) {
  EngineOptions o;
  o.prefix_cache.ram_bytes = ram;
  o.prefix_cache.dir = dir;
  o.prefill_chunk = 64;
  if (log) o.log = [log](std::string_view line) { log->emplace_back(line); };
  auto e = Engine::open(model, o);
  REQUIRE_MESSAGE(e.ok(), e.status().to_string());
  return std::move(e).value();
}

void check_same(const Answer& warm, const Answer& cold) {
  CHECK(warm.tokens == cold.tokens);
  REQUIRE(warm.logprobs.size() == cold.logprobs.size());
  for (size_t i = 0; i < warm.logprobs.size(); ++i) CHECK(warm.logprobs[i] == doctest::Approx(cold.logprobs[i]).epsilon(1e-5));
}

}  // namespace

TEST_CASE("prefix cache: a shared 200-token prefix hits 192 tokens in RAM and after a restart on disk") {
  TempDir dir;
  const std::string model = convert_golden(dir, "fp8-v3");
  const std::vector<int32_t> prefix = tokens(200, 7);
  std::vector<int32_t> first = prefix, second = prefix;
  for (int32_t t : tokens(30, 99)) first.push_back(t);
  for (int32_t t : tokens(25, 42)) second.push_back(t);

  const Answer cold = ask(*open(model, 0, ""), second);
  CHECK(cold.hit == 0);
  CHECK(cold.miss == static_cast<int64_t>(second.size()));

  const std::string cache_dir = dir.file("kv");
  {
    auto engine = open(model, 64ull << 20, cache_dir);
    const Answer a = ask(*engine, first);
    CHECK(a.hit == 0);
    const Answer warm = ask(*engine, second);
    CHECK(warm.hit == 192);
    CHECK(warm.miss == static_cast<int64_t>(second.size()) - 192);
    check_same(warm, cold);
    CHECK(engine->stats().prefix_cache.disk_writes >= 3);
  }
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(cache_dir)) files += e.path().extension() == ".kvb";
  CHECK(files == 3);  // both prompts have 3 whole blocks, the same 3
  {
    auto engine = open(model, 64ull << 20, cache_dir);  // a restart: RAM empty, disk kept
    const Answer warm = ask(*engine, second);
    CHECK(warm.hit == 192);
    check_same(warm, cold);
    CHECK(engine->stats().prefix_cache.disk_reads == 3);
  }
}

TEST_CASE("prefix cache: a flipped byte, a truncated or a foreign block file is skipped with one warning") {
  TempDir dir;
  const std::string model = convert_golden(dir, "bf16");
  const std::vector<int32_t> prompt = tokens(140, 3);
  const Answer cold = ask(*open(model, 0, ""), prompt);
  const std::string cache_dir = dir.file("kv");
  ask(*open(model, 0, cache_dir), prompt);  // disk only: writes 2 blocks
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(cache_dir)) files.push_back(e.path());
  REQUIRE(files.size() == 2);
  {
    auto warm = ask(*open(model, 0, cache_dir), prompt);
    CHECK(warm.hit == 128);
    check_same(warm, cold);
  }
  auto damage = [&](const std::string& how) {
    for (const auto& f : files) {
      if (how == "flip") {
        std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
        io.seekg(200);
        char c = 0;
        io.read(&c, 1);
        c ^= 0x10;
        io.seekp(200);
        io.write(&c, 1);
      } else if (how == "truncate") {
        std::filesystem::resize_file(f, std::filesystem::file_size(f) / 2);
      } else {
        std::ofstream(f, std::ios::binary | std::ios::trunc) << "not a kv block at all, just some text";
      }
    }
  };
  for (const std::string how : {"flip", "truncate", "garbage"}) {
    CAPTURE(how);
    damage(how);
    std::vector<std::string> log;
    auto engine = open(model, 0, cache_dir, &log);
    const Answer a = ask(*engine, prompt);
    CHECK(a.hit == 0);
    check_same(a, cold);
    CHECK(engine->stats().prefix_cache.disk_rejected >= 1);
    int warnings = 0;
    for (const auto& line : log) warnings += line.find("prefix cache: skipping") != std::string::npos;
    CHECK(warnings == 1);
  }
}
