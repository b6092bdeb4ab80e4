// `moestream profile MODEL.mst --prompt-file F --ram-budget B [--trace OUT.mstrace] [--csv OUT.csv]
// [-n N]`: runs each prompt (one per line) through the streaming expert cache, greedy-decodes N
// tokens after it, and records per token and MoE layer the chosen experts with their router
// scores, the next candidates, the pre-gating guess, hit / prefetch / miss and how long the
// layer waited for each load (runtime/profile_recorder.h) into an .mstrace file
// (docs/trace-format.md). Prints the cache report and a profile summary (profile_summary.h).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "engine_flags.h"
#include "runtime/engine/engine.h"
#include "runtime/container_weights.h"
#include "runtime/model.h"
#include "kernel_flags.h"
#include "profiling/trace/trace_csv_export.h"
#include "profiling/trace/trace_writer.h"
#include "platform/clock.h"
#include "platform/progress_bar.h"
#include "profile_summary.h"
#include "runtime/profile_recorder.h"
#include "runtime/sampler.h"
#include "runtime/model_tokenizer.h"

namespace moestream::cli {
namespace {

// Non-empty lines of the prompt file, each one prompt.
Result<std::vector<std::string>> read_prompts(const std::string& path) {
  std::ifstream in(path == "-" ? "/dev/stdin" : path);
  if (!in) return io_error(path + ": cannot open the prompt file");
  std::vector<std::string> prompts;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) prompts.push_back(line);
  }
  if (prompts.empty()) return invalid_argument(path + ": no prompts (one per line, blank lines are skipped)");
  return prompts;
}

Result<trace::TraceHeader> trace_header(const ContainerReader& reader, const std::string& model_path,
                                        int64_t prefetch_margin) {
  const ModelConfig& c = reader.config();
  // The main model's MoE layers (the MTP module's layer is not run by profile).
  std::vector<int64_t> layers = reader.expert_layers();
  std::erase_if(layers, [&](int64_t l) { return l >= c.num_hidden_layers; });
  if (layers.empty()) return invalid_argument(model_path + ": the model has no MoE layers to profile");
  trace::TraceHeader h;
  h.num_moe_layers = static_cast<uint32_t>(layers.size());
  h.first_moe_layer = static_cast<uint32_t>(layers.front());
  h.experts_per_layer = static_cast<uint32_t>(c.n_routed_experts);
  h.top_k = static_cast<uint32_t>(c.num_experts_per_tok);
  h.num_candidates = static_cast<uint32_t>(std::min(kRouterCandidates, c.n_routed_experts - c.num_experts_per_tok));
  h.num_pregate = prefetch_margin < 0 ? 0u
                                      : static_cast<uint32_t>(std::min(c.n_routed_experts,
                                                                       c.num_experts_per_tok + prefetch_margin));
  MOESTREAM_ASSIGN_OR_RETURN(ExpertBlobInfo blob, reader.expert_blob(layers.front(), 0));
  h.expert_bytes = blob.padded_size;
  h.model_name = std::filesystem::path(model_path).stem().string();
  MOESTREAM_TRY(h.validate());
  return h;
}

Status export_csv(const std::string& trace_path, const std::string& csv_path) {
  MOESTREAM_ASSIGN_OR_RETURN(trace::TraceReader reader, trace::TraceReader::open(trace_path));
  MOESTREAM_ASSIGN_OR_RETURN(AtomicFileWriter file, AtomicFileWriter::create(csv_path));
  MOESTREAM_TRY(trace::export_trace_csv(reader, [&](std::string_view text) { return file.write(text.data(), text.size()); }));
  return file.commit();
}

int run_profile(int argc, char** argv) {
  ArgParser args("profile", "Run prompts with experts streamed through the RAM cache and record, per token "
                            "and MoE layer, the chosen experts, router scores, pre-gating guesses, hit/miss "
                            "and load latency into an .mstrace trace (replay it with `moestream cachesim`).");
  std::string model_path, prompt_file, trace_path = "profile.mstrace", csv_path, kv = "f32";
  int64_t max_tokens = 32;
  bool ignore_eos = false, quiet = false, token_ids = false, force = false;
  args.positional("MODEL.mst", &model_path, "the model container");
  args.option("--prompt-file", &prompt_file, "FILE", "text prompts, one per line (each is one sequence; '-' = stdin)");
  args.require("--prompt-file");
  args.flag("--token-ids", &token_ids, "each prompt line is a list of token ids (\"0 309 ...\"), not text");
  args.option("--trace", &trace_path, "OUT.mstrace", "where the trace goes (default profile.mstrace)");
  args.option("--csv", &csv_path, "OUT.csv", "also export the trace as CSV (as `trace csv`)");
  args.option("-n", &max_tokens, "N", "tokens to generate after each prompt, greedy (default 32)", 0, kMaxGenerateTokens);
  args.option("--kv-cache", &kv, "f32|bf16", "KV cache precision (default f32)");
  args.flag("--ignore-eos", &ignore_eos, "keep generating after the end-of-sentence token");
  args.flag("--quiet", &quiet, "no progress bar");
  args.flag("--force", &force, "replace --trace / --csv if they exist");
  StreamingFlags streaming;
  streaming.add_to(args);
  KernelFlags kernel_flags;
  kernel_flags.add_to(args);
  if (!args.parse(argc, argv)) return args.exit_code();
  if (Status s = kernel_flags.apply(); !s.ok()) return usage_error("profile", s);
  if (Status s = streaming.validate(args); !s.ok()) return usage_error("profile", s);
  if (prompt_file.empty()) return usage_error("profile", "--prompt-file FILE is required (one prompt per line)");
  if (!streaming.enabled()) {
    return usage_error("profile", "--ram-budget SIZE is required: profile measures the expert cache that "
                                  "streaming mode uses (e.g. --ram-budget 16G)");
  }
  auto precision = parse_kv_cache_precision(kv);
  if (!precision.ok()) return usage_error("profile", precision.status());
  for (const auto& [flag, path] : {std::pair<std::string, std::string>{"--trace", trace_path}, {"--csv", csv_path}}) {
    if (path.empty() && flag == "--csv") continue;
    if (Status s = check_output_path(path, flag, OutputKind::kFile, force, {model_path, prompt_file}); !s.ok()) {
      return report_error(s);
    }
  }
  if (!csv_path.empty() && std::filesystem::absolute(csv_path) == std::filesystem::absolute(trace_path)) {
    return usage_error("profile", "--csv and --trace name the same file");
  }
  auto prompt_texts = read_prompts(prompt_file);
  if (!prompt_texts.ok()) return report_error(prompt_texts.status());
  std::optional<ModelTokenizer> tokenizer;
  if (!token_ids) {
    auto loaded = load_model_tokenizer(model_path);
    if (!loaded.ok()) return report_error(loaded.status());
    tokenizer.emplace(std::move(loaded).value());
  }
  std::vector<std::vector<int32_t>> prompts;
  int64_t longest = 0;
  uint64_t planned_tokens = 0;
  for (size_t i = 0; i < prompt_texts->size(); ++i) {
    const std::string& text = (*prompt_texts)[i];
    if (token_ids) {
      auto ids = parse_token_list(text);
      if (!ids || ids->empty()) {
        return report_error(invalid_argument(prompt_file + " line " + std::to_string(i + 1) +
                                             ": not a list of token ids (drop --token-ids for text prompts)"));
      }
      prompts.push_back(std::move(*ids));
    } else {
      EncodeOptions encode;
      encode.add_bos = true;
      prompts.push_back(tokenizer->tokenizer.encode(text, encode));
    }
    longest = std::max<int64_t>(longest, static_cast<int64_t>(prompts.back().size()));
    planned_tokens += prompts.back().size() + static_cast<uint64_t>(max_tokens);
  }
  if (Status s = check_context_fits(model_path, longest, max_tokens); !s.ok()) {
    return s.code() == ErrorCode::kInvalidArgument ? usage_error("profile", s) : report_error(s);
  }

  // The engine in streaming mode, with the recorder between the model and the expert cache.
  auto options = single_sequence_options(streaming, kernel_flags, *precision, longest, max_tokens,
                                         /*all_logits=*/false);
  if (!options.ok()) return report_error(options.status());
  options->prefill_chunk = std::max<int64_t>(longest, 1);  // a prompt is one trace step: plan its rows
  std::optional<trace::TraceHeader> header;
  std::unique_ptr<ProfileRecorder> recorder;  // outlives the engine
  options->wrap_experts = [&](const ContainerReader& reader, ExpertProvider& tier) -> Result<ExpertProvider*> {
    MOESTREAM_ASSIGN_OR_RETURN(header, trace_header(reader, model_path, streaming.prefetch_margin));
    recorder = std::make_unique<ProfileRecorder>(tier, *header);
    return &recorder->provider();
  };
  auto engine = Engine::open(model_path, *options);
  if (!engine.ok()) return report_error(engine.status());
  (*engine)->expert_cache()->set_event_listener(recorder->listener());
  auto writer = trace::TraceWriter::create(trace_path, *header);  // header: set by wrap_experts
  if (!writer.ok()) return report_error(writer.status());

  ProfileSummary summary;
  auto write_step = [&]() -> Status {
    for (const trace::TraceRecord& r : recorder->end_step()) {
      MOESTREAM_TRY(writer->append(r));
      summary.add(r);
    }
    return ok_status();
  };
  const Stopwatch watch;
  ProgressBar progress("profile", planned_tokens, "tokens", !quiet);
  // The forward passes run on the engine's model between its steps (nothing else runs).
  Status ran = (*engine)->run_exclusive([&](Model& model) -> Status {
  model.set_routing_observer(recorder->observer());
  model.set_pregate_observer(recorder->pregate_observer());
  const int64_t vocab = model.config().vocab_size;
  std::vector<float> logits;
  for (size_t p = 0; p < prompts.size(); ++p) {
    const std::vector<int32_t>& prompt = prompts[p];
    KvCache cache = model.new_kv_cache(*precision);
    Sampler sampler(SamplingParams{});  // greedy: the same prompts give the same trace
    std::vector<int32_t> history = prompt;
    const std::string where = "prompt " + std::to_string(p + 1) + " of " + prompt_file;
    recorder->begin_step(static_cast<uint32_t>(p), trace::Phase::kPrefill);
    // The prompt in one step (one trace step), the logits of its last row only.
    const SequenceStep step{prompt, &cache, SequenceStep::Rows::kLast};
    Status s = model.forward_batch(std::span<const SequenceStep>(&step, 1), {&logits, nullptr});
    if (s.ok()) s = write_step();
    if (s.code() == ErrorCode::kInvalidArgument && !token_ids) {
      s = invalid_argument(s.message() + "; does the container's tokenizer fit its vocabulary? (synthetic "
                                         "models: give token ids with --token-ids)");
    }
    if (!s.ok()) return s.with_context(where + ", prefill");
    progress.advance(prompt.size());
    for (int64_t generated = 0; generated < max_tokens; ++generated) {
      const int64_t last = static_cast<int64_t>(logits.size()) / vocab - 1;
      const int32_t next = sampler.sample(std::span<const float>(logits.data() + last * vocab, vocab), history);
      history.push_back(next);
      progress.advance(1);
      // The last token is sampled, not run: runs stop where `run` stops.
      if ((next == model.config().eos_token_id && !ignore_eos) || generated + 1 == max_tokens) break;
      recorder->begin_step(static_cast<uint32_t>(p), trace::Phase::kDecode);
      s = model.forward(std::span<const int32_t>(&next, 1), cache, {&logits, nullptr});
      if (s.ok()) s = write_step();
      if (!s.ok()) return s.with_context(where + ", decode step " + std::to_string(generated));
    }
  }
  model.set_routing_observer(nullptr);
  model.set_pregate_observer(nullptr);
  return ok_status();
  });
  if (!ran.ok()) return report_error(ran);
  (*engine)->expert_cache()->set_event_listener(nullptr);
  const uint64_t records = writer->records_written();
  if (Status s = writer->finish(); !s.ok()) return report_error(s);
  const double seconds = watch.elapsed_seconds();
  progress.finish("profiled " + std::to_string(summary.tokens()) + " tokens");
  if (!csv_path.empty()) {
    if (Status s = export_csv(trace_path, csv_path); !s.ok()) return report_error(s);
  }
  std::fprintf(stderr, "%s", (*engine)->cache_report().c_str());
  std::fprintf(stderr, "%s", summary.format((*engine)->cache_stats()).c_str());
  std::error_code ec;
  const auto trace_bytes = std::filesystem::file_size(trace_path, ec);
  std::fprintf(stderr, "profile: %zu prompts, %llu tokens run in %.2f s, hit rate %.1f%%; wrote %llu records "
                       "to %s (%s)%s%s\n",
               prompts.size(), static_cast<unsigned long long>(summary.tokens()), seconds, 100.0 * summary.hit_rate(),
               static_cast<unsigned long long>(records), trace_path.c_str(), format_bytes(ec ? 0 : trace_bytes).c_str(),
               csv_path.empty() ? "" : " and ", csv_path.c_str());
  return 0;
}

MOESTREAM_REGISTER_COMMAND("profile", "record an expert trace (routing, hits, load latency) of prompts under --ram-budget",
                           run_profile);

}  // namespace
}  // namespace moestream::cli
