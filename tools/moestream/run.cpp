// `moestream run MODEL.mst --tokens "0 ..." -n 32 [sampling flags]`: prefill the prompt,
// then generate up to n tokens one decode step at a time and print their ids (and, with
// --text, the decoded text). --prompt TEXT tokenizes a text prompt (BOS prepended) with the
// container's tokenizer instead of --tokens.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "engine_flags.h"
#include "output_format_flags.h"
#include "runtime/engine/engine.h"
#include "kernel_flags.h"
#include "runtime/sampler.h"
#include "runtime/model_tokenizer.h"

namespace moestream::cli {
namespace {

int run_generate(int argc, char** argv) {
  ArgParser args("run", "Generate tokens after a prompt of token ids with the exact CPU forward "
                        "pass and print the generated ids.");
  std::string model_path, tokens_text, tokens_file, prompt_text, prompt_file, kv = "f32";
  int64_t max_tokens = 32, top_k = 0, seed = 0;
  double temperature = 0.0, top_p = 1.0, min_p = 0.0, repetition_penalty = 1.0;
  bool ignore_eos = false, show_text = false;
  args.positional("MODEL.mst", &model_path, "the model container");
  args.option("--tokens", &tokens_text, "\"0 309 ...\"", "prompt token ids");
  args.option("--tokens-file", &tokens_file, "FILE", "prompt token ids from a file (long prompts; '-' = stdin)");
  args.option("--prompt", &prompt_text, "TEXT", "a text prompt instead of --tokens (BOS added; '-' = stdin)");
  args.option("--prompt-file", &prompt_file, "FILE", "read the text prompt from FILE ('-' = stdin)");
  args.flag("--text", &show_text, "also print the generated text (second line)");
  args.option("-n", &max_tokens, "N", "tokens to generate (default 32; prompt + N must fit the model's context)", 0,
              kMaxGenerateTokens);
  args.option("--temperature", &temperature, "T", "0 = greedy (default)", 0, 100);
  args.option("--top-k", &top_k, "K", "sample among the K most likely (0 = off)", 0, INT32_MAX);
  args.option("--top-p", &top_p, "P", "nucleus sampling threshold (1 = off; must be > 0)", 0, 1);
  args.option("--min-p", &min_p, "P", "drop tokens below P x the top probability (0 = off)", 0, 1);
  args.option("--repetition-penalty", &repetition_penalty, "R", "> 1 discourages repeats (1 = off)", 1e-3, 100);
  args.option("--seed", &seed, "S", "random seed (same seed, same output)", 0, INT64_MAX);
  args.option("--kv-cache", &kv, "f32|bf16", "KV cache precision (default f32)");
  args.flag("--ignore-eos", &ignore_eos, "keep generating after the end-of-sentence token");
  std::string speculative = "off";
  add_speculative_flag(args, &speculative);
  OutputFormatFlags output_format;
  output_format.add_to(args);
  StreamingFlags streaming;
  streaming.add_to(args);
  KernelFlags kernel_flags;
  kernel_flags.add_to(args);
  if (!args.parse(argc, argv)) return args.exit_code();
  if (Status s = kernel_flags.apply(); !s.ok()) return usage_error("run", s);
  if (Status s = streaming.validate(args); !s.ok()) return usage_error("run", s);
  const auto speculate = parse_speculative(speculative);
  if (!speculate.ok()) return usage_error("run", speculate.status());
  const int prompt_sources = !tokens_text.empty() + args.given("--tokens-file") + args.given("--prompt") +
                             args.given("--prompt-file");
  if (prompt_sources != 1) return usage_error("run", "give exactly one of --tokens, --tokens-file, --prompt and --prompt-file");
  if (args.given("--tokens-file")) {
    auto text = read_prompt_argument("", tokens_file, true);
    if (!text.ok()) return report_error(text.status());
    tokens_text = std::move(text).value();
  }
  if (Status s = output_format.load(); !s.ok()) return usage_error("run", s);
  if (top_p <= 0) return usage_error("run", "--top-p takes a number above 0 up to 1, not " + std::to_string(top_p));
  auto precision = parse_kv_cache_precision(kv);
  if (!precision.ok()) return usage_error("run", precision.status());
  if (args.given("--prompt") || args.given("--prompt-file")) {
    auto text = read_prompt_argument(prompt_text, prompt_file, args.given("--prompt-file"));
    if (!text.ok()) return report_error(text.status());
    prompt_text = std::move(text).value();
  }
  std::optional<ModelTokenizer> tokenizer;
  const bool text_prompt = args.given("--prompt") || args.given("--prompt-file");
  if (text_prompt) {  // --text alone: the engine's own tokenizer decodes the answer
    auto loaded_tokenizer = load_model_tokenizer(model_path);
    if (!loaded_tokenizer.ok()) return report_error(loaded_tokenizer.status());
    tokenizer.emplace(std::move(loaded_tokenizer).value());
  }
  std::optional<std::vector<int32_t>> tokens;
  if (text_prompt) {
    EncodeOptions encode;
    encode.add_bos = true;
    tokens = tokenizer->tokenizer.encode(prompt_text, encode);
  } else {
    tokens = parse_token_list(tokens_text);
  }
  if (!tokens || tokens->empty()) {
    if (text_prompt) return report_error(invalid_argument("the prompt is empty"));
    return usage_error("run", "--tokens takes a non-empty list of ids such as \"0 309 1702\", not '" + tokens_text + "'");
  }
  SamplingParams params;
  params.temperature = temperature;
  params.top_k = top_k;
  params.top_p = top_p;
  params.min_p = min_p;
  params.repetition_penalty = repetition_penalty;
  params.seed = static_cast<uint64_t>(seed);
  if (Status s = params.check(); !s.ok()) return usage_error("run", s);
  // -n against the model's context before anything is sized for it.
  if (Status s = check_context_fits(model_path, static_cast<int64_t>(tokens->size()), max_tokens); !s.ok()) {
    return s.code() == ErrorCode::kInvalidArgument ? usage_error("run", s) : report_error(s);
  }

  auto options = single_sequence_options(streaming, kernel_flags, *precision, static_cast<int64_t>(tokens->size()),
                                         max_tokens, /*all_logits=*/false);
  if (!options.ok()) return report_error(options.status());
  options->load_tokenizer = show_text || output_format.json || !output_format.json_schema.empty();
  options->speculative_mtp = *speculate;
  auto engine = Engine::open(model_path, *options);
  if (!engine.ok()) return report_error(engine.status());
  if (show_text && (*engine)->tokenizer() == nullptr) {
    return report_error(invalid_argument(model_path + ": --text needs a tokenizer and the container has none"));
  }
  if (max_tokens == 0) return 0;
  auto grammar = output_format.grammar(**engine, /*thinking=*/false);
  if (!grammar.ok()) return report_error(grammar.status());

  GenerationRequest request;
  request.grammar = *grammar;
  request.prompt = *tokens;
  request.sampling = params;
  request.max_tokens = max_tokens;
  request.ignore_eos = ignore_eos;
  bool first = true;
  request.on_token = [&](const TokenEvent& event) {
    if (event.token < 0) return;
    std::printf(first ? "%d" : " %d", event.token);
    std::fflush(stdout);
    first = false;
  };
  const GenerationResult result = (*engine)->generate(std::move(request));
  if (result.stop_token >= 0) std::printf(first ? "%d" : " %d", result.stop_token);  // the EOS that ended it
  std::printf("\n");
  if (result.finish == FinishReason::kError) return report_error(result.error);
  if (show_text) {
    std::printf("%s\n", result.text.c_str());
  }
  std::fflush(stdout);
  const GenerationTimings& t = result.timings;
  std::fprintf(stderr, "prompt %zu tokens in %.2f s; generated %lld tokens in %.2f s (%.1f tok/s)\n",
               tokens->size(), t.prefill_s, static_cast<long long>(result.usage.completion_tokens), t.decode_s,
               t.decode_s > 0 ? static_cast<double>(result.usage.completion_tokens) / t.decode_s : 0.0);
  if (const EngineStats st = (*engine)->stats(); st.drafts > 0) {
    std::fprintf(stderr, "speculation: %llu of %llu MTP drafts accepted (%.1f%%), %.2f tokens per verify step\n",
                 static_cast<unsigned long long>(st.drafts_accepted), static_cast<unsigned long long>(st.drafts),
                 100.0 * static_cast<double>(st.drafts_accepted) / static_cast<double>(st.drafts),
                 1.0 + static_cast<double>(st.drafts_accepted) / static_cast<double>(st.drafts));
  }
  const std::string report = (*engine)->cache_report();
  if (!report.empty()) std::fprintf(stderr, "%s", report.c_str());
  return 0;
}

MOESTREAM_REGISTER_COMMAND("run", "generate tokens after a prompt (exact CPU forward pass)", run_generate);

}  // namespace
}  // namespace moestream::cli
