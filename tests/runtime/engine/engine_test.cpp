// The engine end to end on real containers: batched requests give what each gives alone,
// cancellation, bad requests, usage counts, and the expert cache shared by a batch.
#include "runtime/engine/engine.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "offload/support/synth_container.h"
#include "../../support/golden_fixture.h"
#include "../../support/temp_dir.h"

using namespace moestream;
using namespace moestream::testing;

namespace {

std::unique_ptr<Engine> open_engine(const std::string& path, EngineOptions options = {}) {
  auto engine = Engine::open(path, options);
  REQUIRE_MESSAGE(engine.ok(), engine.status().to_string());
  return std::move(engine).value();
}

GenerationRequest greedy(std::vector<int32_t> prompt, int64_t n) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.max_tokens = n;
  r.ignore_eos = true;
  return r;
}

const std::vector<std::vector<int32_t>> kPrompts = {
    {1, 17, 300, 4, 55}, {1, 2047, 33}, {1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 12}, {1, 5}, {1, 700, 800, 900}};

}  // namespace

TEST_CASE("engine: requests run together give the tokens each gives alone (greedy)") {
  TempDir dir;
  const std::string path = convert_golden(dir, "fp8-v3");
  std::vector<std::vector<int32_t>> alone;
  {
    EngineOptions o;
    o.max_sequences = 1;
    auto engine = open_engine(path, o);
    for (const auto& p : kPrompts) {
      GenerationResult r = engine->generate(greedy(p, 12));
      REQUIRE(r.finish == FinishReason::kLength);
      CHECK(r.tokens.size() == 12);
      CHECK(r.usage.prompt_tokens == static_cast<int64_t>(p.size()));
      CHECK(r.usage.completion_tokens == 12);
      alone.push_back(r.tokens);
    }
  }
  EngineOptions o;
  o.max_sequences = 4;  // five requests: the fifth joins when the first leaves
  o.prefill_chunk = 6;  // prompts longer than that prefill over several steps
  auto engine = open_engine(path, o);
  std::vector<RequestHandle> handles;
  for (size_t i = 0; i < kPrompts.size(); ++i) handles.push_back(engine->submit(greedy(kPrompts[i], 12 - static_cast<int64_t>(i))));
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    GenerationResult r = handles[i].wait();
    CAPTURE(i);
    REQUIRE(r.finish == FinishReason::kLength);
    CHECK(r.tokens == std::vector<int32_t>(alone[i].begin(), alone[i].begin() + static_cast<std::ptrdiff_t>(12 - i)));
  }
  const EngineStats s = engine->stats();
  CHECK(s.generated_tokens == 12 + 11 + 10 + 9 + 8);
  CHECK(s.steps < s.generated_tokens);  // sequences shared steps
}

TEST_CASE("engine: streaming under a RAM budget, a batch shares one expert cache") {
  TempDir dir;
  const std::string path = synth_container(dir, "m.mst");
  EngineOptions o;
  o.streaming.emplace();
  o.streaming->ram_budget = 1ull << 30;
  o.max_context = 64;
  o.max_sequences = 4;
  std::vector<std::vector<int32_t>> alone;
  {
    auto engine = open_engine(path, o);
    for (const auto& p : kPrompts) alone.push_back(engine->generate(greedy(p, 6)).tokens);
  }
  auto engine = open_engine(path, o);
  std::vector<RequestHandle> handles;
  for (const auto& p : kPrompts) handles.push_back(engine->submit(greedy(p, 6)));
  for (size_t i = 0; i < handles.size(); ++i) {
    GenerationResult r = handles[i].wait();
    CHECK(r.finish == FinishReason::kLength);
    CHECK(r.tokens == alone[i]);
    CHECK(r.experts.hits + r.experts.misses > 0);
  }
  CHECK(engine->stats().expert_bytes_read > 0);
  CHECK(engine->cache_report().find("expert cache report") != std::string::npos);
}

TEST_CASE("engine: cancel from the token callback or another thread, the others go on") {
  TempDir dir;
  auto engine = open_engine(convert_golden(dir, "bf16"));
  RequestHandle victim;
  std::atomic<int> seen{0};
  GenerationRequest r = greedy(kPrompts[0], 1000);
  r.on_token = [&](const TokenEvent&) {
    if (++seen == 3) victim.cancel();
  };
  victim = engine->submit(std::move(r));
  RequestHandle other = engine->submit(greedy(kPrompts[1], 20));
  GenerationResult cancelled = victim.wait();
  CHECK(cancelled.finish == FinishReason::kCancelled);
  CHECK(cancelled.tokens.size() >= 3);
  CHECK(cancelled.tokens.size() <= 4);
  GenerationResult done = other.wait();
  CHECK(done.finish == FinishReason::kLength);
  CHECK(done.tokens.size() == 20);

  RequestHandle later = engine->submit(greedy(kPrompts[2], 100000));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  later.cancel();
  CHECK(later.wait().finish == FinishReason::kCancelled);
}

TEST_CASE("engine: bad requests finish with a clear error and nothing else is lost") {
  TempDir dir;
  EngineOptions o;
  o.max_context = 32;
  auto engine = open_engine(convert_golden(dir, "bf16"), o);
  RequestHandle good = engine->submit(greedy(kPrompts[0], 5));
  auto error_of = [&](GenerationRequest r) {
    GenerationResult res = engine->generate(std::move(r));
    CHECK(res.finish == FinishReason::kError);
    return res.error.message();
  };
  CHECK(error_of(greedy({1, 5000}, 3)).find("outside the vocabulary") != std::string::npos);
  CHECK(error_of(greedy({1, -1}, 3)).find("outside the vocabulary") != std::string::npos);
  CHECK(error_of(greedy({}, 3)).find("empty") != std::string::npos);
  CHECK(error_of(greedy(std::vector<int32_t>(40, 1), 3)).find("context") != std::string::npos);
  CHECK(error_of(greedy({1}, 0)).find("max_tokens") != std::string::npos);
  GenerationRequest hot = greedy({1}, 3);
  hot.sampling.temperature = -1;
  CHECK(error_of(hot).find("temperature") != std::string::npos);
  GenerationRequest top = greedy({1}, 3);
  top.top_logprobs = 21;
  CHECK(error_of(top).find("top_logprobs") != std::string::npos);
  // Output is cut at the context: 30 prompt tokens leave room for 2.
  GenerationResult clipped = engine->generate(greedy(std::vector<int32_t>(30, 7), 50));
  CHECK(clipped.finish == FinishReason::kLength);
  CHECK(clipped.tokens.size() == 2);
  CHECK(good.wait().finish == FinishReason::kLength);
}

TEST_CASE("engine: logprobs are log-probabilities, best first") {
  TempDir dir;
  auto engine = open_engine(convert_golden(dir, "bf16"));
  GenerationRequest r = greedy(kPrompts[0], 4);
  r.logprobs = true;
  r.top_logprobs = 5;
  std::vector<TokenEvent> events;
  std::string streamed;
  r.on_token = [&](const TokenEvent& e) {
    streamed += e.text;
    if (e.token >= 0) events.push_back(e);  // token -1: held-back text released at the end
  };
  GenerationResult res = engine->generate(std::move(r));
  CHECK(streamed == res.text);
  REQUIRE(events.size() == 4);
  for (size_t i = 0; i < events.size(); ++i) {
    const TokenEvent& e = events[i];
    CHECK(e.token == res.tokens[i]);
    CHECK(e.logprob <= 0.0f);
    REQUIRE(e.top_logprobs.size() == 5);
    CHECK(e.top_logprobs[0].first == e.token);  // greedy: the best is the one chosen
    CHECK(e.top_logprobs[0].second == doctest::Approx(e.logprob));
    for (size_t j = 1; j < 5; ++j) CHECK(e.top_logprobs[j].second <= e.top_logprobs[j - 1].second);
  }
}

TEST_CASE("engine: the forward time by kind of operation adds up to the forward time") {
  TempDir dir;
  auto engine = open_engine(convert_golden(dir, "bf16"));
  engine->generate(greedy(kPrompts[0], 6));
  const EngineStats s = engine->stats();
  CHECK(s.steps == 6);  // the prompt's step and 5 decode steps: a result comes after its step's counters
  CHECK(s.ops.steps == s.steps);
  CHECK(s.ops.attention.ns > 0);
  CHECK(s.ops.moe.ns > 0);
  CHECK(s.ops.head.ns > 0);
  // Golden config A has a dense first layer.
  CHECK(s.ops.dense_ffn.ns > 0);
  const double ops_s = static_cast<double>(s.ops.total_ns()) * 1e-9;
  CHECK(ops_s <= s.forward_s * 1.001 + 1e-6);
  CHECK(ops_s >= s.forward_s * 0.5);  // forward_s adds only the call around forward_batch
}
