// `moestream bench grammar [MODEL.mst]`: the per-token cost of grammar-constrained output on
// the full 129,280-token vocabulary. For JSON mode, a 20-property schema and any --schema
// FILE it runs noise generations (each token drawn uniformly among the allowed ones, which
// visits far more distinct states than a trained model would) and times every mask applied
// to a logits row: median, p99 and max, and how many masks came from a fresh trie walk. With
// a model it also decodes free and JSON-constrained in the same run and prints the mask time
// against the decode step.
#include "bench_grammar.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "arg_parser.h"
#include "cli_common.h"
#include "format/embedded_tokenizer.h"
#include "runtime/engine/engine.h"
#include "text/grammar/json_schema_grammar.h"
#include "text/grammar/token_grammar.h"

namespace moestream::cli {
namespace {

using Json = nlohmann::ordered_json;
constexpr int64_t kVocab = 129280;

Json twenty_property_schema() {
  const char* types[] = {"string", "integer", "number", "boolean"};
  Json s = {{"type", "object"}, {"properties", Json::object()}, {"required", Json::array()}, {"additionalProperties", false}};
  for (int i = 1; i <= 20; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "field_%02d", i);
    Json p = {{"type", types[i % 4]}};
    if (i % 4 == 0) p = {{"type", "string"}, {"maxLength", 16}};
    if (i == 5) p = {{"enum", {"red", "green", "blue"}}};
    if (i == 10) p = {{"type", "string"}, {"format", "date-time"}};
    if (i == 15) p = {{"type", "array"}, {"items", {{"type", "integer"}}}, {"maxItems", 4}};
    s["properties"][name] = p;
    s["required"].push_back(name);
  }
  return s;
}

struct MaskTimes {
  std::vector<double> us;
  uint64_t walks = 0;
  bool overflowed = false;  // the automaton outgrew TokenGrammar::kMaxStates
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

MaskTimes time_masks(TokenGrammar& tg, int64_t generations, int64_t max_tokens, uint64_t seed) {
  MaskTimes t;
  std::mt19937_64 rng(seed);
  std::vector<float> logits(static_cast<size_t>(kVocab));
  std::vector<int32_t> allowed;
  const uint64_t walks_before = tg.stats().trie_walks;
  const int64_t budget_floor = static_cast<int64_t>(tg.distance(tg.start()));
  for (int64_t g = 0; g < generations; ++g) {
    int32_t s = tg.start();
    const int64_t budget = budget_floor + max_tokens;  // the shortest answer and N more tokens
    for (int64_t n = 0; n < budget; ++n) {
      std::fill(logits.begin(), logits.end(), 0.0f);
      const auto a = std::chrono::steady_clock::now();
      const bool bounded = tg.mask_logits(s, budget - n, logits) >= 0;
      const auto b = std::chrono::steady_clock::now();
      if (!bounded) {
        t.overflowed = true;
        break;
      }
      t.us.push_back(std::chrono::duration<double, std::micro>(b - a).count());
      allowed.clear();
      for (int32_t i = 0; i < kVocab; ++i) {
        if (logits[static_cast<size_t>(i)] == 0.0f) allowed.push_back(i);
      }
      const int32_t tok = allowed[rng() % allowed.size()];
      if (tg.is_end_token(tok)) break;
      s = tg.advance(s, tok);
      if (s < 0 || tg.complete(s)) break;
    }
  }
  t.walks = tg.stats().trie_walks - walks_before;
  return t;
}

}  // namespace

int run_bench_grammar(int argc, char** argv) {
  ArgParser args("bench grammar", "Time grammar masks (JSON mode, a 20-property schema, --schema FILE) on the full "
                                  "vocabulary; with a model, also against its decode step in the same run.");
  std::string model_path, schema_file;
  int64_t generations = 50, max_tokens = 160, decode_tokens = 64;
  args.positional("MODEL.mst", &model_path, "optional: a model whose decode step the masks are compared with", false);
  args.option("--schema", &schema_file, "FILE", "also time this JSON Schema");
  args.option("--generations", &generations, "N", "noise generations per grammar (default 50)", 1, 100000);
  args.option("--max-tokens", &max_tokens, "N", "tokens beyond the shortest valid answer in each generation's budget (default 160)", 1, 100000);
  args.option("--decode-tokens", &decode_tokens, "N", "tokens decoded per model run (default 64)", 2, 100000);
  if (!args.parse(argc, argv)) return args.exit_code();

  auto tokenizer = Tokenizer::from_json(embedded_tokenizer_json());
  if (!tokenizer.ok()) return report_error(tokenizer.status());
  const auto t0 = std::chrono::steady_clock::now();
  auto trie = std::make_shared<const TokenTrie>(TokenTrie::build(*tokenizer, kVocab));
  const double trie_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("vocabulary trie: %zu tokens, %zu nodes, built in %.1f ms\n", trie->token_count(), trie->size(), trie_ms);

  std::vector<std::pair<std::string, Grammar>> grammars;
  grammars.emplace_back("json_object", json_object_grammar());
  auto twenty = json_schema_grammar(twenty_property_schema());
  if (!twenty.ok()) return report_error(twenty.status());
  grammars.emplace_back("20-property schema", std::move(twenty).value());
  if (!schema_file.empty()) {
    std::ifstream in(schema_file);
    std::stringstream text;
    text << in.rdbuf();
    const Json schema = Json::parse(text.str(), nullptr, false);
    if (!in || schema.is_discarded()) return report_error(invalid_argument(schema_file + ": not readable JSON"));
    auto g = json_schema_grammar(schema);
    if (!g.ok()) return report_error(g.status());
    grammars.emplace_back(schema_file, std::move(g).value());
  }
  double json_median_us = 0;
  for (auto& [name, grammar] : grammars) {
    TokenGrammar tg(std::move(grammar), trie, {1});
    const MaskTimes t = time_masks(tg, generations, max_tokens, 42);
    double mean = 0;
    for (double v : t.us) mean += v;
    mean /= static_cast<double>(std::max<size_t>(t.us.size(), 1));
    std::printf("%-20s %7zu masks: median %.3f ms, p99 %.3f ms, max %.2f ms, mean %.3f ms; %llu from a trie walk, %llu states\n",
                name.c_str(), t.us.size(), percentile(t.us, 0.5) / 1e3, percentile(t.us, 0.99) / 1e3,
                percentile(t.us, 1.0) / 1e3, mean / 1e3, static_cast<unsigned long long>(t.walks),
                static_cast<unsigned long long>(tg.stats().states));
    if (t.overflowed) std::printf("%-20s stopped: the automaton outgrew %zu states\n", name.c_str(), TokenGrammar::kMaxStates);
    if (name == "json_object") json_median_us = percentile(t.us, 0.5);
  }
  if (model_path.empty()) return 0;

  EngineOptions options;
  options.max_sequences = 1;
  auto engine = Engine::open(model_path, options);
  if (!engine.ok()) return report_error(engine.status());
  ChatMessage ask;
  ask.role = "user";
  ask.content = "Describe a city as a JSON object.";
  auto prompt = (*engine)->chat_prompt({ask}, {});
  if (!prompt.ok()) return report_error(prompt.status());
  ChatOutputSpec json_mode;
  json_mode.kind = (*engine)->chat_template();
  json_mode.json_object = true;
  auto grammar = (*engine)->constrain(json_mode);
  if (!grammar.ok()) return report_error(grammar.status());
  double step_ms[2] = {0, 0};
  for (int constrained = 0; constrained < 2; ++constrained) {
    GenerationRequest r;
    r.prompt = *prompt;
    r.max_tokens = decode_tokens;
    r.ignore_eos = true;
    r.sampling.temperature = 1.0;
    r.sampling.seed = 7;
    if (constrained) r.grammar = *grammar;
    const EngineStats before = (*engine)->stats();
    const GenerationResult result = (*engine)->generate(r);
    if (result.finish == FinishReason::kError) return report_error(result.error);
    const EngineStats after = (*engine)->stats();
    step_ms[constrained] = result.timings.decoded > 1 ? result.timings.decode_s * 1e3 / static_cast<double>(result.timings.decoded - 1) : 0;
    if (constrained) {
      const double mask_ms = (after.grammar_s - before.grammar_s) * 1e3 / static_cast<double>(std::max<uint64_t>(after.grammar_masks - before.grammar_masks, 1));
      std::printf("decode step: free %.3f ms, JSON-constrained %.3f ms (%lld tokens); grammar %.3f ms per token = %.1f %% of "
                  "the free step; noise median %.3f ms = %.1f %%\n",
                  step_ms[0], step_ms[1], static_cast<long long>(result.timings.decoded), mask_ms,
                  step_ms[0] > 0 ? 100.0 * mask_ms / step_ms[0] : 0.0, json_median_us / 1e3,
                  step_ms[0] > 0 ? 100.0 * json_median_us / 1e3 / step_ms[0] : 0.0);
    }
  }
  return 0;
}

}  // namespace moestream::cli
