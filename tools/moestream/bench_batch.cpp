#include "bench_batch.h"

#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "arg_parser.h"
#include "cli_common.h"
#include "engine_flags.h"
#include "platform/clock.h"
#include "platform/progress_bar.h"
#include "runtime/engine/engine.h"

namespace moestream::cli {
namespace {

struct Row {
  int64_t sequences = 0;
  uint64_t tokens = 0;
  double seconds = 0;
  uint64_t bytes = 0;
  uint64_t acquisitions = 0;
  uint64_t steps = 0;
  double forward_s = 0, schedule_s = 0, sample_s = 0;
  double tok_s() const { return seconds > 0 ? static_cast<double>(tokens) / seconds : 0; }
  double bytes_per_token() const { return tokens ? static_cast<double>(bytes) / static_cast<double>(tokens) : 0; }
};

}  // namespace

int run_bench_batch(int argc, char** argv) {
  ArgParser args("bench batch", "Aggregate decode speed and expert traffic of the engine at several batch sizes.");
  std::string model_path, sizes_text = "1,4,16,64";
  int64_t prompt_tokens = 16, new_tokens = 32, seed = 1;
  args.positional("MODEL.mst", &model_path, "the model container");
  args.option("--sequences", &sizes_text, "N,N,...", "batch sizes to run, in order (default 1,4,16,64)");
  args.option("--prompt-tokens", &prompt_tokens, "N", "random prompt tokens per sequence (default 16)");
  args.option("--new-tokens", &new_tokens, "N", "tokens generated per sequence (default 32)");
  args.option("--seed", &seed, "S", "prompt seed (default 1)");
  EngineFlags engine_flags;
  engine_flags.add_to(args);
  if (!args.parse(argc, argv)) return args.exit_code();
  std::string bad;
  const auto parsed_sizes = parse_count_list(sizes_text, 4096, &bad);
  if (!parsed_sizes) {
    std::fprintf(stderr, "moestream bench batch: --sequences takes sizes 1..4096, got '%s'\n", bad.c_str());
    return 2;
  }
  const std::vector<int64_t>& sizes = *parsed_sizes;
  if (sizes.empty() || prompt_tokens < 1 || new_tokens < 1) {
    std::fprintf(stderr, "moestream bench batch: --sequences, --prompt-tokens and --new-tokens must be positive\n");
    return 2;
  }
  int64_t largest = 0;
  for (int64_t s : sizes) largest = std::max(largest, s);
  engine_flags.parallel = largest;
  engine_flags.max_context = prompt_tokens + new_tokens + 1;
  auto options = engine_flags.to_options(args);
  if (!options.ok()) {
    std::fprintf(stderr, "moestream bench batch: %s\n", options.status().message().c_str());
    return 2;
  }
  options->prefix_cache.ram_bytes = 0;  // distinct random prompts: nothing to share
  auto engine = Engine::open(model_path, *options);
  if (!engine.ok()) return report_error(engine.status());
  Engine& e = **engine;
  const int64_t vocab = e.config().vocab_size;
  std::mt19937 rng(static_cast<uint32_t>(seed));
  // Warm-up (not measured): one sequence pages in the memory-mapped weights, so the first row
  // does not pay for reading them from disk.
  {
    GenerationRequest r;
    r.prompt.assign(static_cast<size_t>(prompt_tokens), 1);
    r.max_tokens = new_tokens;
    r.ignore_eos = true;
    const GenerationResult res = e.generate(std::move(r));
    if (res.finish == FinishReason::kError) return report_error(res.error);
  }
  std::vector<Row> rows;
  for (int64_t n : sizes) {
    std::vector<RequestHandle> handles;
    const EngineStats before = e.stats();
    const Stopwatch watch;
    for (int64_t i = 0; i < n; ++i) {
      GenerationRequest r;
      for (int64_t t = 0; t < prompt_tokens; ++t) r.prompt.push_back(static_cast<int32_t>(rng() % static_cast<uint32_t>(vocab)));
      r.max_tokens = new_tokens;
      r.ignore_eos = true;
      handles.push_back(e.submit(std::move(r)));
    }
    Row row;
    row.sequences = n;
    for (RequestHandle& h : handles) {
      const GenerationResult res = h.wait();
      if (res.finish == FinishReason::kError) return report_error(res.error);
      row.tokens += static_cast<uint64_t>(res.usage.completion_tokens);
    }
    row.seconds = watch.elapsed_seconds();
    const EngineStats after = e.stats();
    row.bytes = after.expert_bytes_read - before.expert_bytes_read;
    row.acquisitions = after.expert_acquisitions - before.expert_acquisitions;
    row.steps = after.steps - before.steps;
    row.forward_s = after.forward_s - before.forward_s;
    row.schedule_s = after.schedule_s - before.schedule_s;
    row.sample_s = after.sample_s - before.sample_s;
    rows.push_back(row);
    std::fprintf(stderr, "batch %lld done: %.1f tok/s\n", static_cast<long long>(n), row.tok_s());
  }
  const int64_t moe_layers = static_cast<int64_t>(e.reader().expert_layers().size());
  std::printf("%-10s %10s %10s %12s %14s %12s %16s %10s %10s\n", "sequences", "tokens", "tok/s", "x 1-seq",
              "expert B/token", "x 1-seq", "acq/layer/step", "sched %", "sample %");
  const Row& base = rows.front();
  for (const Row& r : rows) {
    const double acq = r.steps && moe_layers ? static_cast<double>(r.acquisitions) / static_cast<double>(r.steps * moe_layers) : 0;
    const double step_s = r.forward_s + r.schedule_s + r.sample_s;
    std::printf("%-10lld %10llu %10.2f %12.2f %14s %12.3f %16.1f %9.2f%% %9.2f%%\n", static_cast<long long>(r.sequences),
                static_cast<unsigned long long>(r.tokens), r.tok_s(), base.tok_s() > 0 ? r.tok_s() / base.tok_s() : 0,
                format_bytes(static_cast<uint64_t>(r.bytes_per_token())).c_str(),
                base.bytes_per_token() > 0 ? r.bytes_per_token() / base.bytes_per_token() : 0, acq,
                step_s > 0 ? 100.0 * r.schedule_s / step_s : 0, step_s > 0 ? 100.0 * r.sample_s / step_s : 0);
  }
  const std::string report = e.cache_report();
  if (!report.empty()) std::fprintf(stderr, "%s", report.c_str());
  return 0;
}

}  // namespace moestream::cli
