// `moestream profile` end to end on a tiny synthetic model whose cache holds under a quarter
// of the experts: one record per forwarded token and MoE layer; the chosen experts (and
// scores) equal an all-resident run's RoutingObserver; the trace's outcome counts equal the
// cache report; `trace csv` and --csv agree; `cachesim` replays the trace with its recorded
// pre-gating guesses; missing flags are refused with a message.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "profiling/trace/trace_reader.h"
#include "runtime/container_weights.h"
#include "runtime/model.h"
#include "runtime/sampler.h"
#include "support/cli_runner.h"
#include "support/file_contents.h"
#include "support/temp_dir.h"

using namespace moestream;
using namespace moestream::testing;

namespace {

// The tiny preset's vocabulary is smaller than its tokenizer's: prompts are token ids.
const std::vector<std::vector<int32_t>> kPrompts = {{0, 5, 9, 100, 200, 7, 8, 1500, 33, 2}, {1, 17, 400, 3, 99}};
constexpr int kGenerate = 6;

using StepKey = std::tuple<uint32_t, uint32_t, uint16_t>;  // sequence, token, MoE layer

// The all-resident run of the same prompts (greedy, as profile runs them): per step, the
// chosen experts and their scores, from a RoutingObserver.
std::map<StepKey, std::vector<trace::ScoredExpert>> resident_routing(const std::string& model_path) {
  auto reader = ContainerReader::open(model_path);
  REQUIRE(reader.ok());
  ContainerWeightSource weights(**reader);
  ResidentExpertProvider experts(**reader);
  auto model = Model::load(weights, experts);
  REQUIRE(model.ok());
  const int64_t first_moe = (*reader)->expert_layers().front();
  std::map<StepKey, std::vector<trace::ScoredExpert>> out;
  uint32_t sequence = 0;
  (*model)->set_routing_observer([&](int64_t layer, int64_t position, const RoutingDecision& d) {
    auto& v = out[{sequence, static_cast<uint32_t>(position), static_cast<uint16_t>(layer - first_moe)}];
    for (size_t i = 0; i < d.experts.size(); ++i) v.push_back({static_cast<uint16_t>(d.experts[i]), d.scores[i]});
  });
  const int64_t vocab = (*model)->config().vocab_size;
  for (; sequence < kPrompts.size(); ++sequence) {
    std::vector<int32_t> history = kPrompts[sequence];
    KvCache cache = (*model)->new_kv_cache();
    std::vector<float> logits;
    REQUIRE((*model)->forward(history, cache, {&logits, nullptr}).ok());
    Sampler sampler(SamplingParams{});
    for (int g = 0; g + 1 < kGenerate; ++g) {
      const int64_t last = static_cast<int64_t>(logits.size()) / vocab - 1;
      const int32_t next = sampler.sample(std::span<const float>(logits.data() + last * vocab, vocab), history);
      history.push_back(next);
      REQUIRE((*model)->forward(std::span<const int32_t>(&next, 1), cache, {&logits, nullptr}).ok());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("profile records every step truthfully under a budget of a quarter of the experts") {
  TempDir dir;
  const std::string model = dir.file("m.mst");
  REQUIRE(run_cli("synth --preset tiny --experts 64 --quiet --out " + model).exit_code == 0);
  const std::string prompts = dir.file("prompts.txt");
  {
    std::ofstream out(prompts);
    for (const auto& prompt : kPrompts) {
      for (int32_t id : prompt) out << id << ' ';
      out << "\n\n";  // blank lines are skipped
    }
  }
  const std::string base = "profile " + model + " --prompt-file " + prompts + " -n " +
                           std::to_string(kGenerate) + " --token-ids --ignore-eos --quiet";
  // The smallest budget the plan accepts, from its refusal; 3 MB more is < 64 * 2 / 4 slots.
  CliResult o = run_cli(base + " --ram-budget 1M");
  CHECK(o.exit_code != 0);
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(o.output, m, std::regex("needs at least ([0-9.]+) MiB")), o.output);
  const uint64_t budget = static_cast<uint64_t>(std::stod(m[1]) * 1048576) + 3'000'000;
  const std::string trace_path = dir.file("run.mstrace"), csv_path = dir.file("run.csv");
  o = run_cli(base + " --ram-budget " + std::to_string(budget) + " --trace " + trace_path + " --csv " + csv_path);
  REQUIRE_MESSAGE(o.exit_code == 0, o.output);
  REQUIRE(std::regex_search(o.output, m, std::regex("([0-9]+) expert slots x .*of ([0-9]+) experts")));
  CHECK(std::stoll(m[1]) * 4 <= std::stoll(m[2]));
  CHECK(o.output.find("profile summary") != std::string::npos);
  CHECK(o.output.find("load wait") != std::string::npos);
  CHECK(std::regex_search(o.output, std::regex("profile: 2 prompts, [0-9]+ tokens run in .*wrote [0-9]+ records")));

  // One record per forwarded token and MoE layer, token-major, equal to the resident routing.
  const auto expected = resident_routing(model);
  auto reader = trace::TraceReader::open(trace_path);
  REQUIRE_MESSAGE(reader.ok(), reader.status().to_string());
  const trace::TraceHeader& h = reader->header();
  CHECK(h.num_moe_layers == 2);
  CHECK(h.experts_per_layer == 64);
  CHECK(h.num_candidates == 8);
  CHECK(h.num_pregate == h.top_k + 2);  // the default --prefetch-margin 2
  trace::TraceRecord r;
  size_t records = 0;
  uint64_t hits = 0, misses = 0, prefetch_hits = 0, decode_records = 0, waited = 0;
  // A prefill batch pins each expert once: the cache counts distinct experts per batch.
  std::map<std::tuple<uint32_t, uint16_t>, std::set<uint16_t>> prefill_experts;
  uint64_t decode_accesses = 0, steps_with_guess = 0;
  std::map<uint32_t, uint32_t> tokens_per_sequence;
  for (;;) {
    auto more = reader->next(&r);
    REQUIRE_MESSAGE(more.ok(), more.status().to_string());
    if (!*more) break;
    CAPTURE(r.sequence);
    CAPTURE(r.token);
    CAPTURE(r.layer);
    CHECK(r.layer == records % h.num_moe_layers);
    ++records;
    tokens_per_sequence[r.sequence] = std::max(tokens_per_sequence[r.sequence], r.token + 1);
    decode_records += r.phase == trace::Phase::kDecode ? 1 : 0;
    uint64_t guessed = 0;
    for (const trace::ScoredExpert& g : r.pregate) {
      if (std::isinf(g.score)) continue;  // no guess for this step
      CHECK((g.score > 0.0f && g.score < 1.0f));  // router affinity of the guess
      ++guessed;
    }
    steps_with_guess += guessed ? 1 : 0;
    auto want = expected.find({r.sequence, r.token, r.layer});
    REQUIRE(want != expected.end());
    REQUIRE(r.chosen.size() == want->second.size());
    for (size_t i = 0; i < r.chosen.size(); ++i) {
      if (r.phase == trace::Phase::kDecode) {
        ++decode_accesses;
      } else {
        prefill_experts[{r.sequence, r.layer}].insert(r.chosen[i].expert);
      }
      CHECK(r.chosen[i].expert == want->second[i].expert);
      CHECK(r.chosen[i].score == want->second[i].score);
      switch (r.chosen[i].outcome) {
        case trace::ExpertOutcome::kHit: ++hits; CHECK(r.chosen[i].load_us == 0); break;
        case trace::ExpertOutcome::kPrefetchHit: ++hits; ++prefetch_hits; break;
        case trace::ExpertOutcome::kPrefetchLate: ++hits; ++prefetch_hits; break;
        case trace::ExpertOutcome::kMiss: ++misses; waited += r.chosen[i].load_us; break;
        default: FAIL("an outcome was not recorded");
      }
    }
  }
  CHECK(records == expected.size());
  CHECK(steps_with_guess == records);  // every MoE layer of this model gets a pre-gating guess
  CHECK(tokens_per_sequence.size() == 2);
  CHECK(decode_records == 2u * (kGenerate - 1) * h.num_moe_layers);
  CHECK(misses > 0);
  CHECK(waited > 0);
  // The cache report's total row: hits, misses, hit %, prefetch hits, ...
  REQUIRE(std::regex_search(o.output, m, std::regex("total +([0-9]+) +([0-9]+) +[0-9.]+% +([0-9]+)")));
  uint64_t cache_accesses = decode_accesses;
  for (const auto& [step, experts] : prefill_experts) cache_accesses += experts.size();
  CHECK(hits > 0);
  CHECK(std::stoull(m[1]) == cache_accesses - misses);
  CHECK(std::stoull(m[2]) == misses);
  CHECK(std::stoull(m[3]) == prefetch_hits);

  // CSV: the --csv export equals `trace csv`, one line per record plus the header.
  const std::string csv = read_file(csv_path);
  CHECK(static_cast<size_t>(std::count(csv.begin(), csv.end(), '\n')) == records + 1);
  const CliResult exported = run_cli("trace csv " + trace_path, /*merge_stderr=*/false);
  CHECK(exported.exit_code == 0);
  CHECK(exported.output == csv);

  // cachesim replays it, pre-gating from the recorded guesses included.
  const CliResult sim = run_cli("cachesim " + trace_path + " --quiet --sizes 8,16 --prefetch pregate");
  CHECK_MESSAGE(sim.exit_code == 0, sim.output);
  CHECK(sim.output.find("pre-gating (recorded)") != std::string::npos);
}

TEST_CASE("profile refuses to run without a budget or prompts, with a message that says what to add") {
  TempDir dir;
  const std::string model = dir.file("m.mst");
  REQUIRE(run_cli("synth --preset tiny --quiet --out " + model).exit_code == 0);
  const std::string prompts = dir.file("prompts.txt");
  std::ofstream(prompts) << "0 1 2\n";
  CliResult o = run_cli("profile " + model + " --prompt-file " + prompts);
  CHECK(o.exit_code != 0);
  CHECK(o.output.find("--ram-budget") != std::string::npos);
  o = run_cli("profile " + model + " --ram-budget 1G");
  CHECK(o.exit_code != 0);
  CHECK(o.output.find("--prompt-file") != std::string::npos);
  std::ofstream(dir.file("empty.txt")) << "\n  \n";
  o = run_cli("profile " + model + " --ram-budget 1G --prompt-file " + dir.file("empty.txt"));
  CHECK(o.exit_code != 0);
  CHECK(o.output.find("no prompts") != std::string::npos);
}
