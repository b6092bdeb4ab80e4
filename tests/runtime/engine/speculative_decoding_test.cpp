// MTP speculative decoding in the engine: greedy output identical with and without it (golden
// tinyA and the mini model, alone and in a batch, all experts resident and streamed), with
// drafts forced right (every draft accepted: fewer steps), forced wrong half the time (the
// rejected rows leave the KV cache), and the MTP layer's own drafts equal to those of one pass
// of the MTP layer over the finished sequence (its cache stays consistent after rejections).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "runtime/container_weights.h"
#include "runtime/engine/engine.h"
#include "runtime/model.h"
#include "../../support/golden_fixture.h"
#include "../../support/mini_model.h"
#include "../../support/temp_dir.h"

using namespace moestream;
using namespace moestream::testing;

namespace {

GenerationRequest greedy(std::vector<int32_t> prompt, int64_t n) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.max_tokens = n;
  r.ignore_eos = true;
  return r;
}

std::vector<std::vector<int32_t>> generate_all(const std::string& path, EngineOptions o,
                                               const std::vector<std::vector<int32_t>>& prompts, int64_t n,
                                               EngineStats* stats = nullptr) {
  auto engine = Engine::open(path, o);
  REQUIRE_MESSAGE(engine.ok(), engine.status().to_string());
  std::vector<RequestHandle> handles;
  for (const auto& p : prompts) handles.push_back((*engine)->submit(greedy(p, n)));
  std::vector<std::vector<int32_t>> out;
  for (RequestHandle& h : handles) {
    GenerationResult r = h.wait();
    REQUIRE_MESSAGE(r.finish == FinishReason::kLength, r.error.to_string());
    out.push_back(r.tokens);
  }
  if (stats) *stats = (*engine)->stats();
  return out;
}

const std::vector<std::vector<int32_t>> kPrompts = {{1, 17, 300, 4, 55}, {1, 2047, 33}, {1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 12}};

// The token after `history` in the finished reference output of the prompt it starts with.
int32_t reference_next(const std::vector<std::vector<int32_t>>& prompts, const std::vector<std::vector<int32_t>>& outputs,
                       std::span<const int32_t> history) {
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto& p = prompts[i];
    if (history.size() < p.size() || !std::equal(p.begin(), p.end(), history.begin())) continue;
    const size_t generated = history.size() - p.size();  // history ends with output[generated - 1]
    return generated < outputs[i].size() ? outputs[i][generated] : -1;
  }
  return -1;
}

void check_identical(const std::string& path, EngineOptions base) {
  const int64_t n = 12;
  EngineStats plain_stats, spec_stats;
  base.max_sequences = 3;
  base.prefill_chunk = 4;  // the longer prompts prefill over several steps, MTP rows chunk by chunk
  const auto reference = generate_all(path, base, kPrompts, n, &plain_stats);
  EngineOptions spec = base;
  spec.speculative_mtp = true;
  CHECK(generate_all(path, spec, kPrompts, n, &spec_stats) == reference);
  CHECK(spec_stats.drafts > 0);

  // Every draft forced right: all accepted, two tokens per verify step, fewer steps.
  spec.draft_override = [&](std::span<const int32_t> history, int32_t) {
    return reference_next(kPrompts, reference, history);
  };
  CHECK(generate_all(path, spec, kPrompts, n, &spec_stats) == reference);
  CHECK(spec_stats.drafts > 0);
  CHECK(spec_stats.drafts_accepted == spec_stats.drafts);
  CHECK(spec_stats.steps < plain_stats.steps);

  // Right and wrong in turn: the rejected rows are dropped from the KV cache.
  int calls = 0;
  spec.draft_override = [&](std::span<const int32_t> history, int32_t) {
    const int32_t right = reference_next(kPrompts, reference, history);
    return (calls++ % 2 == 0 || right < 0) ? right : (right + 1) % 64;
  };
  CHECK(generate_all(path, spec, kPrompts, n, &spec_stats) == reference);
  CHECK(spec_stats.drafts_accepted > 0);
  CHECK(spec_stats.drafts_accepted < spec_stats.drafts);
}

}  // namespace

TEST_CASE("MTP speculation: greedy output identical with and without it, drafts right, wrong and mixed") {
  TempDir dir;
  SUBCASE("golden tinyA, experts resident") { check_identical(convert_golden(dir, "fp8-v3"), {}); }
  SUBCASE("golden tinyA, a quarter of the experts streamed") {
    const std::string path = convert_golden(dir, "fp8-v3");
    auto reader = ContainerReader::open(path);
    REQUIRE(reader.ok());
    const int64_t experts = static_cast<int64_t>((*reader)->expert_layers().size()) * (*reader)->config().n_routed_experts;
    const int64_t slot = static_cast<int64_t>((*reader)->expert_blob((*reader)->expert_layers().front(), 0)->padded_size);
    EngineOptions o;
    o.streaming.emplace();
    // Find the smallest budget the plan takes, then a quarter of the experts more.
    uint64_t lo = 1 << 20, hi = 1ull << 34;
    while (hi - lo > 4096) {
      o.streaming->ram_budget = lo + (hi - lo) / 2;
      o.speculative_mtp = true;
      if (Engine::open(path, o).ok()) hi = o.streaming->ram_budget; else lo = o.streaming->ram_budget;
    }
    o.speculative_mtp = false;
    o.streaming->ram_budget = hi + static_cast<uint64_t>(experts / 4 * slot);
    check_identical(path, o);
  }
  SUBCASE("the mini model (real vocabulary)") { check_identical(synth_mini_model(dir), {}); }
}

TEST_CASE("MTP speculation: the MTP cache stays consistent, drafts equal one pass over the finished sequence") {
  TempDir dir;
  const std::string path = convert_golden(dir, "fp8-v3");
  EngineOptions o;
  const auto reference = generate_all(path, o, {kPrompts[2]}, 10);
  // The engine's own MTP drafts, by the length of the history they were made after, with the
  // forced drafts alternating right and wrong.
  std::map<size_t, int32_t> drafts;
  int calls = 0;
  o.speculative_mtp = true;
  o.prefill_chunk = 5;
  o.draft_override = [&](std::span<const int32_t> history, int32_t mtp_draft) {
    drafts[history.size()] = mtp_draft;
    const int32_t right = reference_next({kPrompts[2]}, reference, history);
    return (calls++ % 2 == 0 || right < 0) ? right : (right + 3) % 64;
  };
  REQUIRE(generate_all(path, o, {kPrompts[2]}, 10) == reference);
  REQUIRE(drafts.size() >= 5);

  // One pass: the main model over prompt + output, every final hidden state, then the MTP
  // layer over all rows paired with the token that followed each.
  std::vector<int32_t> all = kPrompts[2];
  all.insert(all.end(), reference[0].begin(), reference[0].end());
  auto reader = ContainerReader::open(path);
  REQUIRE(reader.ok());
  ContainerWeightSource weights(**reader);
  ResidentExpertProvider experts(**reader);
  auto model = Model::load(weights, experts);
  REQUIRE(model.ok());
  KvCache kv = (*model)->new_kv_cache();
  std::vector<float> logits, hidden;
  const SequenceStep step{std::span<const int32_t>(all.data(), all.size() - 1), &kv, SequenceStep::Rows::kAll};
  REQUIRE((*model)->forward_batch(std::span<const SequenceStep>(&step, 1), {&logits, &hidden}).ok());
  KvCache mtp_kv = (*model)->mtp()->new_kv_cache();
  std::vector<float> mtp_logits;
  REQUIRE((*model)->mtp_forward(std::span<const int32_t>(all.data() + 1, all.size() - 1), hidden.data(), mtp_kv, &mtp_logits).ok());
  const int64_t vocab = (*reader)->config().vocab_size;
  for (const auto& [length, draft] : drafts) {
    // After a history of `length` tokens the MTP row is position length - 2 (paired with the
    // newest token); its logits guess the token after that.
    CAPTURE(length);
    const float* row = mtp_logits.data() + static_cast<int64_t>(length - 2) * vocab;
    const float best = *std::max_element(row, row + vocab);
    CHECK(row[draft] >= best - 1e-4f);
  }
}

namespace {

// The second and third generated tokens of `samples` seeded requests (temperature 1, top-k 6):
// the first comes from the prompt step, the next ones from verify steps when speculating.
std::vector<std::map<int32_t, int>> sample_tokens(const std::string& path, EngineOptions o, int samples,
                                                  EngineStats* stats) {
  o.max_sequences = 32;
  auto engine = Engine::open(path, o);
  REQUIRE(engine.ok());
  std::vector<RequestHandle> handles;
  for (int i = 0; i < samples; ++i) {
    GenerationRequest r = greedy(kPrompts[0], 3);
    r.sampling.temperature = 1.0;
    r.sampling.top_k = 6;
    r.sampling.seed = static_cast<uint64_t>(1000 + i);
    handles.push_back((*engine)->submit(std::move(r)));
  }
  std::vector<std::map<int32_t, int>> counts(2);
  for (RequestHandle& h : handles) {
    const GenerationResult r = h.wait();
    REQUIRE(r.tokens.size() == 3);
    ++counts[0][r.tokens[1]];
    ++counts[1][r.tokens[2]];
  }
  *stats = (*engine)->stats();
  return counts;
}

// Two-sample chi-square homogeneity statistic over the tokens seen (bins under 10 samples in
// all merged), against the critical value at p = 0.001 (Wilson-Hilferty).
void check_same_distribution(const std::map<int32_t, int>& a, const std::map<int32_t, int>& b) {
  std::map<int32_t, std::pair<int, int>> bins;
  for (const auto& [t, n] : a) bins[t].first += n;
  for (const auto& [t, n] : b) bins[t].second += n;
  std::vector<std::pair<int, int>> merged;
  std::pair<int, int> rest{0, 0};
  for (const auto& [t, ab] : bins) {
    if (ab.first + ab.second < 10) {
      rest.first += ab.first;
      rest.second += ab.second;
    } else {
      merged.push_back(ab);
    }
  }
  if (rest.first + rest.second > 0) merged.push_back(rest);
  REQUIRE(merged.size() >= 2);
  double chi2 = 0;
  for (const auto& [x, y] : merged) chi2 += static_cast<double>((x - y) * (x - y)) / static_cast<double>(x + y);
  const double df = static_cast<double>(merged.size() - 1), z = 3.09;
  const double critical = df * std::pow(1 - 2 / (9 * df) + z * std::sqrt(2 / (9 * df)), 3);
  CAPTURE(merged.size());
  CHECK(chi2 < critical);
}

}  // namespace

TEST_CASE("MTP speculation with sampling: the tokens' distribution is unchanged (chi-square, 2,000 samples)") {
  TempDir dir;
  const std::string path = convert_golden(dir, "fp8-v3");
  const int samples = 2000;
  EngineStats plain_stats, spec_stats, chosen_stats;
  const auto plain = sample_tokens(path, {}, samples, &plain_stats);
  EngineOptions spec;
  spec.speculative_mtp = true;
  const auto drafted = sample_tokens(path, spec, samples, &spec_stats);
  CHECK(spec_stats.drafts > 0);
  // A draft chosen outright (all its mass on one token) is kept with probability p(draft):
  // the second token's most frequent value is kept often and rejected often, so both paths of
  // the rule run (kept drafts, residual draws), which the random MTP layer's drafts seldom do.
  int32_t mode = -1;
  int best = 0;
  for (const auto& [t, n] : plain[0]) {
    if (n > best) best = n, mode = t;
  }
  spec.draft_override = [mode](std::span<const int32_t>, int32_t) { return mode; };
  const auto chosen = sample_tokens(path, spec, samples, &chosen_stats);
  CHECK(chosen_stats.drafts_accepted > 0);
  CHECK(chosen_stats.drafts_accepted < chosen_stats.drafts);
  for (size_t k = 0; k < 2; ++k) {
    CAPTURE(k);
    check_same_distribution(plain[k], drafted[k]);
    check_same_distribution(plain[k], chosen[k]);
  }
}
