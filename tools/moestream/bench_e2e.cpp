// `moestream bench e2e MODEL.mst --ram-budget B`: decode speed of the whole engine under a
// budget, against the two bounds measured in the same run. Order: fio over the expert region
// with the loader's request size and depth (the I/O bound), a STREAM triad on the kernel
// threads (the memory bound), then a kernel-enforced memory cgroup equal to the budget
// (--cgroup), the page cache dropped (--drop-caches, opt-in) and N tokens decoded after a short
// random prompt. Per decode token it prints the bytes read from the device, the expert-cache hit rate,
//   I/O bound    = bytes read / fio bandwidth
//   memory bound = (non-expert bytes every step reads + routed expert bytes used) / triad
// and the time per token over the larger of the two. `--baseline mmap` then runs the same
// decode with the experts left in the memory-mapped file and no expert cache (how a page-cache
// engine behaves), under the same cgroup; `--baseline prefetch-off` the same streamed decode
// without pre-gating. `--rounds N` repeats both arms in turn (ABBA order, the page cache dropped
// before each with --drop-caches) and prints each arm's spread and the per-round ratio: on a
// host whose disk and memory swing by 1.5x within minutes, only arms run side by side compare.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "arg_parser.h"
#include "bench_e2e.h"
#include "bench_io.h"
#include "bench_measure.h"
#include "cli_common.h"
#include "engine_flags.h"
#include "kernel_flags.h"
#include "platform/memory_cgroup.h"
#include "platform/progress_bar.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/touched_weights.h"
#include "streaming_flags.h"

namespace moestream::cli {
namespace {

// Bytes this process has caused to be read from storage (page faults of the mapped file,
// O_DIRECT reads): what the device did, whatever path asked for it.
uint64_t storage_read_bytes() {
  std::ifstream f("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (f >> key >> value) {
    if (key == "read_bytes:") return value;
  }
  return 0;
}

struct DecodeRun {
  std::string label;
  int64_t tokens = 0;           // decode tokens timed (after the first)
  double seconds = 0;           // their time
  double prefill_s = 0;
  uint64_t device_bytes = 0;    // read from storage during them
  uint64_t hits = 0, misses = 0;
  uint64_t prefetch_reads = 0, prefetch_used = 0;  // guesses read, and those a layer then used
  uint64_t peak = 0;            // cgroup peak during the run (0 without --cgroup)
  double fio_bw = 0;            // the device's bandwidth measured before the run's round (0: none)
  uint64_t limit_hits = 0;
  std::vector<int32_t> output;  // the generated ids
  uint64_t drafts = 0, accepted = 0;
  OpTimes ops;                  // the decode steps (not the prompt), by kind of operation
  // With --paired-read: each decode step's time and the read-only bandwidth measured right
  // before and right after it (the mean of the two), the streams' own time left out.
  std::vector<double> step_s, read_gbs_around;
  double per_token_s() const { return tokens ? seconds / static_cast<double>(tokens) : 0; }
  double bytes_per_token() const { return tokens ? static_cast<double>(device_bytes) / static_cast<double>(tokens) : 0; }
  // Its bytes read per token at its round's fio bandwidth (0 without fio).
  double io_bound_s() const { return fio_bw > 0 ? bytes_per_token() / fio_bw : 0; }
  // Time per token over the larger of `io_bound` and `memory_bound` (0 when both are 0).
  double of_larger(double io_bound, double memory_bound) const {
    const double larger = std::max(io_bound, memory_bound);
    return larger > 0 ? per_token_s() / larger : 0;
  }
};

// With `paired` (and paired_seconds > 0), a read-only stream is measured between every two
// decode steps: on a host whose memory bandwidth swings by 2x within a minute, a bound taken
// before the run says little about the steps, one taken next to each step does.
Result<DecodeRun> decode(const std::string& path, const EngineOptions& options, const std::vector<int32_t>& prompt,
                         int64_t new_tokens, MemoryCgroup* cgroup, const std::string& label,
                         ReadStream* paired = nullptr, double paired_seconds = 0) {
  if (cgroup) cgroup->reset_peak();
  const uint64_t limit_hits_before = cgroup ? cgroup->limit_hits() : 0;
  MOESTREAM_ASSIGN_OR_RETURN(auto engine, Engine::open(path, options));
  Engine& e = *engine;
  // Counters at the first token (the prompt is done) and at the end: the decode part alone.
  uint64_t io_at_first = 0;
  LayerCacheStats cache_at_first;
  OpTimes ops_at_second;  // the engine's counters when the second token arrives: the prompt's steps, whole
  ProgressBar bar(label + " decode", static_cast<uint64_t>(new_tokens), "tokens");
  int64_t seen = 0;
  std::vector<double> step_s, read_gbs;  // paired: steps 2.., and a read before the first of them
  auto last_exit = std::chrono::steady_clock::now();
  GenerationRequest r;
  r.prompt = prompt;
  r.max_tokens = new_tokens;
  r.ignore_eos = true;
  r.on_token = [&](const TokenEvent&) {
    const auto enter = std::chrono::steady_clock::now();
    if (seen == 0) {
      io_at_first = storage_read_bytes();
      cache_at_first = total_of(e.cache_stats());
    }
    if (seen == 1) ops_at_second = e.stats().ops;  // a step's counters go out at its end
    if (seen >= 1) step_s.push_back(std::chrono::duration<double>(enter - last_exit).count());
    ++seen;
    bar.update(static_cast<uint64_t>(seen));
    if (paired != nullptr && seen < new_tokens) read_gbs.push_back(paired->measure(paired_seconds));
    last_exit = std::chrono::steady_clock::now();
  };
  const GenerationResult res = e.generate(std::move(r));
  bar.finish(std::to_string(seen) + " tokens");
  if (res.finish == FinishReason::kError) return res.error;
  const LayerCacheStats cache_end = total_of(e.cache_stats());
  DecodeRun run;
  run.label = label;
  run.output = res.tokens;
  const EngineStats stats = e.stats();
  run.drafts = stats.drafts;
  run.ops = stats.ops.minus(ops_at_second);  // every decode step: the engine returns a result after its step's counters
  run.accepted = stats.drafts_accepted;
  run.tokens = res.timings.decoded - 1;
  run.seconds = res.timings.decode_s;
  if (paired != nullptr && !step_s.empty() && read_gbs.size() >= step_s.size()) {
    // Step k ran between read k and read k + 1 (the last step has only the one before it).
    double sum = 0;
    for (size_t k = 0; k < step_s.size(); ++k) {
      sum += step_s[k];
      run.read_gbs_around.push_back(k + 1 < read_gbs.size() ? 0.5 * (read_gbs[k] + read_gbs[k + 1]) : read_gbs[k]);
    }
    run.step_s = std::move(step_s);
    run.seconds = sum;  // without the streams between the steps
    run.tokens = static_cast<int64_t>(run.step_s.size());
  }
  run.prefill_s = res.timings.prefill_s;
  run.device_bytes = storage_read_bytes() - io_at_first;
  run.hits = cache_end.hits - cache_at_first.hits;
  run.misses = cache_end.misses - cache_at_first.misses;
  run.prefetch_reads = cache_end.prefetches - cache_at_first.prefetches;
  run.prefetch_used = cache_end.prefetch_hits - cache_at_first.prefetch_hits;
  if (cgroup) {
    run.peak = cgroup->peak_bytes();
    run.limit_hits = cgroup->limit_hits() - limit_hits_before;
  }
  const std::string report = e.cache_report();
  if (!report.empty()) std::fprintf(stderr, "%s", report.c_str());
  return run;
}

}  // namespace

int run_bench_e2e(int argc, char** argv) {
  ArgParser args("bench e2e",
                 "Decode tok/s under --ram-budget against the I/O bound (fio) and the memory bound (triad) measured in "
                 "the same run; optionally under a kernel-enforced cgroup limit and against a plain-mmap baseline.");
  std::string model_path, baseline = "none", kv = "f32", speculative = "off";
  int64_t prompt_tokens = 8, new_tokens = 32, seed = 1, triad_mb = 256, rounds = 1;
  double fio_seconds = 5, triad_seconds = 0.5, paired_seconds = 0;
  bool use_cgroup = false, drop_caches = false;
  args.positional("MODEL.mst", &model_path, "the model container");
  args.option("--prompt-tokens", &prompt_tokens, "N", "random prompt tokens before the decode (default 8)", 1, 1 << 20);
  args.option("--new-tokens", &new_tokens, "N", "tokens decoded (default 32)", 2, 1 << 20);
  args.option("--seed", &seed, "S", "prompt seed (default 1)", 0, INT64_MAX);
  args.option("--baseline", &baseline, "none|mmap|prefetch-off",
              "also decode with the experts read through the page cache from the mapped file, no expert cache (mmap), "
              "or streamed without pre-gating (prefetch-off)");
  args.option("--rounds", &rounds, "N",
              "run the streamed decode and the baseline N times each, in turn (ABBA), and print each one's spread and "
              "the ratio of every pair (default 1)",
              1, 100);
  args.option("--kv-cache", &kv, "f32|bf16", "KV cache precision (default f32)");
  args.option("--speculative", &speculative, "mtp|off",
              "also decode with MTP speculation, with its own drafts and with drafts forced right (default off)");
  args.option("--fio-seconds", &fio_seconds, "S", "duration of the fio run (default 5; 0 skips it)", 0, 600);
  args.option("--triad-mb", &triad_mb, "MiB", "size of each triad array (default 256)", 8, 1 << 16);
  args.option("--triad-seconds", &triad_seconds, "S", "duration of each of 3 triad runs (default 0.5)", 0.01, 60);
  args.option("--paired-read", &paired_seconds, "S",
              "between decode steps, measure a read-only stream for S seconds and compare each step with the "
              "bandwidth next to it (not counted in the step times; for runs whose memory bound is the larger, e.g. "
              "every expert cached; default 0: off)",
              0, 10);
  args.flag("--cgroup", &use_cgroup,
            "run inside a new memory cgroup limited to --ram-budget (v2 or v1; needs root), so the kernel enforces it");
  args.flag("--drop-caches", &drop_caches,
            "first sync and drop the WHOLE machine's page cache (needs root; slows every other process)");
  StreamingFlags streaming;
  streaming.add_to(args);
  KernelFlags kernel_flags;
  kernel_flags.add_to(args);
  if (!args.parse(argc, argv)) return args.exit_code();
  if (Status s = kernel_flags.apply(); !s.ok()) return usage_error("bench e2e", s);
  if (!streaming.enabled()) return usage_error("bench e2e", "--ram-budget is required");
  if (Status s = streaming.validate(args); !s.ok()) return usage_error("bench e2e", s);
  if (baseline != "none" && baseline != "mmap" && baseline != "prefetch-off") {
    return usage_error("bench e2e", "--baseline takes none, mmap or prefetch-off");
  }
  if (baseline == "prefetch-off" && streaming.prefetch_margin < 0) {
    return usage_error("bench e2e", "--baseline prefetch-off compares against prefetch on: drop --prefetch-margin -1");
  }
  if (speculative != "off" && speculative != "mtp") return usage_error("bench e2e", "--speculative takes mtp or off");
  auto precision = parse_kv_cache_precision(kv);
  if (!precision.ok()) return usage_error("bench e2e", precision.status());
  const auto budget = parse_byte_size(streaming.ram_budget);
  const auto request = parse_byte_size(streaming.request_size);
  if (!budget || !request) return usage_error("bench e2e", "--ram-budget and --request-size take sizes like 8G");

  // The container's shape: expert region for fio, bytes per routed expert, bytes every step
  // reads, the vocabulary for the prompt.
  ExpertBlobs scanned;
  int64_t moe_layers = 0, routed = 0;
  uint32_t vocab = 0;
  TouchedWeights touched;
  {
    auto opened = ContainerReader::open(model_path);
    if (!opened.ok()) return report_error(opened.status());
    const ContainerReader& reader = **opened;
    auto blobs = expert_blobs(reader);
    if (!blobs.ok()) return report_error(blobs.status());
    scanned = std::move(blobs).value();
    routed = reader.config().num_experts_per_tok;
    moe_layers = reader.config().main_moe_layers();
    vocab = static_cast<uint32_t>(reader.config().vocab_size);
    touched = touched_weights(reader);
  }
  const uint64_t expert_bytes = scanned.largest_raw, blob_bytes = scanned.largest_padded;

  // The device's bandwidth, 0 when fio is skipped or fails. With rounds it is measured again
  // before each: this disk's bandwidth moved by 25 % between minutes.
  const auto measure_fio = [&](const std::string& when) -> double {
    if (fio_seconds <= 0) return 0;
    const uint64_t size = std::min<uint64_t>(*request, (blob_bytes + 4095) / 4096 * 4096);
    std::string cmd;
    auto f = run_fio(model_path, scanned.region_begin, scanned.region_end - scanned.region_begin, size,
                     static_cast<unsigned>(streaming.queue_depth),
                     fio_seconds, (blob_bytes + size - 1) / size, &cmd);
    if (!f.ok()) {
      std::printf("fio%s: %s (no I/O bound)\n", when.c_str(), f.status().message().c_str());
      return 0;
    }
    std::printf("fio%s: %.0f MB/s (%s requests, depth %lld)\n", when.c_str(), *f / 1e6, format_bytes(size).c_str(),
                static_cast<long long>(streaming.queue_depth));
    return *f;
  };
  const double fio_first = measure_fio("");
  double triad_gbs = 0;
  {
    Triad triad(triad_mb);
    std::vector<double> runs;
    for (int i = 0; i < 3; ++i) runs.push_back(triad.measure(triad_seconds));
    const Stats s = stats_of(runs);
    // The bound is the best the machine showed: on a shared host the median swings with the
    // neighbours' load.
    triad_gbs = s.max;
    std::printf("triad: %.1f GB/s (best of 3; median %.1f, least %.1f)\n", s.max, s.median, s.min);
  }
  double read_gbs = 0;
  {
    ReadStream read(triad_mb * 3);  // as much memory as the triad's three arrays
    std::vector<double> runs;
    for (int i = 0; i < 3; ++i) runs.push_back(read.measure(triad_seconds));
    const Stats s = stats_of(runs);
    read_gbs = s.max;
    std::printf("read: %.1f GB/s (best of 3; median %.1f, least %.1f)\n", s.max, s.median, s.min);
  }

  // The paired stream's array, touched before the limit applies, like the triad's.
  std::unique_ptr<ReadStream> paired;
  if (paired_seconds > 0) paired = std::make_unique<ReadStream>(triad_mb * 3);

  // The bounds are the machine's, measured before the limit applies (the triad's arrays would
  // count against it); the runs are inside it.
  std::unique_ptr<MemoryCgroup> cgroup;
  if (use_cgroup) {
    auto entered = MemoryCgroup::enter(*budget);
    if (entered.ok()) {
      cgroup = std::move(entered).value();
      std::printf("%s\n", cgroup->describe().c_str());
    } else {
      std::printf("no cgroup: %s (the budget is the engine's own accounting only)\n", entered.status().message().c_str());
    }
  }

  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::vector<int32_t> prompt;
  std::vector<DecodeRun> runs;
  auto options = single_sequence_options(streaming, kernel_flags, *precision, prompt_tokens, new_tokens, false);
  if (!options.ok()) return usage_error("bench e2e", options.status());
  for (int64_t t = 0; t < prompt_tokens; ++t) prompt.push_back(static_cast<int32_t>(rng() % vocab));

  // The arms: the streamed decode and the baseline, if any.
  struct Arm {
    std::string label;
    EngineOptions options;
    bool paired_read = false;
  };
  std::vector<Arm> arms{{"streaming", *options, true}};
  if (baseline == "mmap") {
    StreamingFlags none = streaming;
    none.ram_budget.clear();
    auto plain = single_sequence_options(none, kernel_flags, *precision, prompt_tokens, new_tokens, false);
    if (!plain.ok()) return usage_error("bench e2e", plain.status());
    arms.push_back({"mmap", *plain, false});
  } else if (baseline == "prefetch-off") {
    StreamingFlags off = streaming;
    off.prefetch_margin = -1;
    auto unguessed = single_sequence_options(off, kernel_flags, *precision, prompt_tokens, new_tokens, false);
    if (!unguessed.ok()) return usage_error("bench e2e", unguessed.status());
    arms.push_back({"prefetch off", *unguessed, false});
  }
  // runs_of[a]: the indexes in `runs` of arm a's rounds.
  std::vector<std::vector<size_t>> runs_of(arms.size());
  for (int64_t round = 0; round < rounds; ++round) {
    const double fio_bw = round == 0 ? fio_first : measure_fio(" before round " + std::to_string(round + 1));
    // ABBA: an arm that always ran second would always meet the host a little later.
    for (size_t k = 0; k < arms.size(); ++k) {
      const size_t a = round % 2 == 0 ? k : arms.size() - 1 - k;
      const Arm& arm = arms[a];
      if (drop_caches) std::printf("%s\n", drop_page_cache().c_str());
      std::fflush(stdout);
      const std::string label = rounds > 1 ? arm.label + " #" + std::to_string(round + 1) : arm.label;
      auto run = decode(model_path, arm.options, prompt, new_tokens, cgroup.get(), label,
                        arm.paired_read ? paired.get() : nullptr, paired_seconds);
      if (!run.ok()) return report_error(run.status());
      run->fio_bw = fio_bw;
      if (!runs.empty() && run->output != runs.front().output) {
        return report_error(internal_error(label + " decoded other tokens than " + runs.front().label));
      }
      runs_of[a].push_back(runs.size());
      runs.push_back(std::move(run).value());
    }
  }
  if (speculative == "mtp") {
    // With the MTP layer's drafts, then with drafts forced right (the tokens of the run
    // above): the step cost at acceptance 1.0, the bound on what speculation can give.
    EngineOptions spec = *options;
    spec.speculative_mtp = true;
    auto drafted = decode(model_path, spec, prompt, new_tokens, cgroup.get(), "mtp drafts");
    if (!drafted.ok()) return report_error(drafted.status());
    drafted->fio_bw = fio_first;
    runs.push_back(*drafted);
    const std::vector<int32_t> reference = runs.front().output;
    spec.draft_override = [&](std::span<const int32_t> history, int32_t) -> int32_t {
      const size_t generated = history.size() - prompt.size();  // history ends with output[generated - 1]
      return generated < reference.size() ? reference[generated] : -1;
    };
    auto forced = decode(model_path, spec, prompt, new_tokens, cgroup.get(), "mtp forced right");
    if (!forced.ok()) return report_error(forced.status());
    if (forced->output != reference || drafted->output != reference) {
      return report_error(internal_error("speculative decoding changed the greedy output"));
    }
    forced->fio_bw = fio_first;
    runs.push_back(*forced);
  }

  const double memory_bytes = static_cast<double>(touched.every_step) +
                              static_cast<double>(moe_layers * routed) * static_cast<double>(expert_bytes);
  const double memory_bound = triad_gbs > 0 ? memory_bytes / (triad_gbs * 1e9) : 0;
  std::printf("\nper decode token: %s non-expert weights + %lld routed experts x %s = %s from memory\n",
              format_bytes(touched.every_step).c_str(), static_cast<long long>(moe_layers * routed),
              format_bytes(expert_bytes).c_str(), format_bytes(static_cast<uint64_t>(memory_bytes)).c_str());
  std::printf("| run | tok/s | ms/token | read/token | hit rate | I/O bound ms | memory bound ms | / larger | cgroup peak |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (const DecodeRun& r : runs) {
    const uint64_t accesses = r.hits + r.misses;
    char hit[32] = "-";
    if (accesses) std::snprintf(hit, sizeof(hit), "%.1f%%", 100.0 * static_cast<double>(r.hits) / static_cast<double>(accesses));
    char peak[64] = "-";
    if (cgroup) std::snprintf(peak, sizeof(peak), "%s%s", format_bytes(r.peak).c_str(), r.limit_hits ? " (at limit)" : "");
    std::printf("| %s | %.2f | %.1f | %s | %s | %.1f | %.1f | %.2f | %s |\n", r.label.c_str(),
                r.per_token_s() > 0 ? 1.0 / r.per_token_s() : 0, 1e3 * r.per_token_s(),
                format_bytes(static_cast<uint64_t>(r.bytes_per_token())).c_str(), hit, 1e3 * r.io_bound_s(),
                1e3 * memory_bound, r.of_larger(r.io_bound_s(), memory_bound), peak);
  }
  // Several rounds: each arm's spread, and the arms compared round by round.
  if (rounds > 1) {
    std::vector<std::vector<double>> tok_s(arms.size()), of_bound(arms.size());
    for (size_t a = 0; a < arms.size(); ++a) {
      for (size_t i : runs_of[a]) {
        const DecodeRun& r = runs[i];
        if (r.per_token_s() <= 0) continue;
        tok_s[a].push_back(1.0 / r.per_token_s());
        if (const double f = r.of_larger(r.io_bound_s(), memory_bound); f > 0) of_bound[a].push_back(f);
      }
      if (tok_s[a].empty()) continue;
      const Stats t = stats_of(tok_s[a]);
      std::printf("%s, %zu rounds: %.2f tok/s median (least %.2f, most %.2f)", arms[a].label.c_str(), tok_s[a].size(),
                  t.median, t.min, t.max);
      if (!of_bound[a].empty()) {
        const Stats b = stats_of(of_bound[a]);
        std::printf("; %.2f x the larger bound median (%.2f..%.2f)", b.median, b.min, b.max);
      }
      std::printf("\n");
    }
    if (arms.size() == 2 && tok_s[0].size() == tok_s[1].size() && !tok_s[0].empty()) {
      std::vector<double> ratio;
      int faster = 0;
      std::string each;
      for (size_t i = 0; i < tok_s[0].size(); ++i) {
        ratio.push_back(tok_s[0][i] / tok_s[1][i]);
        if (ratio.back() >= 1.0) ++faster;
        char one[32];
        std::snprintf(one, sizeof one, "%s%.2f", i ? " " : "", ratio.back());
        each += one;
      }
      const Stats q = stats_of(ratio);
      std::printf("%s / %s, round by round: %s; median %.2f, at least as fast in %d of %zu rounds\n",
                  arms[0].label.c_str(), arms[1].label.c_str(), each.c_str(), q.median, faster, ratio.size());
    }
  }
  // The bound above counts every byte read, a prefetch's wrong guesses included; the bound of
  // the reads the tokens needed (misses and the guesses they used) is the one a prefetcher
  // cannot beat.
  for (const DecodeRun& r : runs) {
    if (r.prefetch_reads == 0 || r.tokens == 0 || r.fio_bw <= 0) continue;
    const uint64_t unused = r.prefetch_reads > r.prefetch_used ? r.prefetch_reads - r.prefetch_used : 0;
    const double unused_per_token = static_cast<double>(unused * blob_bytes) / static_cast<double>(r.tokens);
    const double needed_per_token = std::max(0.0, r.bytes_per_token() - unused_per_token);
    const double needed_bound = needed_per_token / r.fio_bw;
    std::printf("%s: %llu guesses read, %llu used; %s per token went to guesses never used. The reads the tokens "
                "needed (%s per token): I/O bound %.1f ms, %.2f x the larger bound\n",
                r.label.c_str(), static_cast<unsigned long long>(r.prefetch_reads),
                static_cast<unsigned long long>(r.prefetch_used),
                format_bytes(static_cast<uint64_t>(unused_per_token)).c_str(),
                format_bytes(static_cast<uint64_t>(needed_per_token)).c_str(), 1e3 * needed_bound,
                r.of_larger(needed_bound, memory_bound));
  }
  // A decode step only reads its weights: the same bound against a read-only stream.
  if (read_gbs > 0) {
    const double read_bound = memory_bytes / (read_gbs * 1e9);
    for (const DecodeRun& r : runs) {
      std::printf("%s against the read stream (%.1f GB/s): memory bound %.1f ms, %.2f x the larger bound\n",
                  r.label.c_str(), read_gbs, 1e3 * read_bound, r.of_larger(r.io_bound_s(), read_bound));
    }
  }
  // Each step against the read bandwidth measured next to it.
  for (const DecodeRun& r : runs) {
    if (r.step_s.empty()) continue;
    std::vector<double> of_bound;
    for (size_t k = 0; k < r.step_s.size(); ++k) {
      if (r.step_s[k] > 0 && r.read_gbs_around[k] > 0) {
        of_bound.push_back(memory_bytes / (r.read_gbs_around[k] * 1e9) / r.step_s[k]);
      }
    }
    if (of_bound.empty()) continue;
    const Stats f = stats_of(of_bound), rd = stats_of(r.read_gbs_around);
    std::printf("%s, paired with a %.2f s read stream between steps (%zu steps): each step at %.2f of the memory bound "
                "next to it (median; least %.2f, most %.2f); the read stream ran at %.1f GB/s (median; %.1f..%.1f)\n",
                r.label.c_str(), paired_seconds, of_bound.size(), f.median, f.min, f.max, rd.median, rd.min, rd.max);
  }

  // Where a decode step goes, how fast each kind of operation read its weights, and how much
  // of its time the disk had an expert read in flight (where it idles, reads were not overlapped).
  const auto op_row = [&](const char* name, const OpTime& op, uint64_t steps, uint64_t total_ns, double bytes,
                          bool reads) {
    const double ms = steps ? static_cast<double>(op.ns) / static_cast<double>(steps) * 1e-6 : 0;
    char rate[32] = "-", busy[32] = "-", read[32] = "-";
    if (bytes > 0 && ms > 0) std::snprintf(rate, sizeof rate, "%.1f", bytes / (ms * 1e-3) / 1e9);
    if (reads && op.ns > 0) {
      std::snprintf(busy, sizeof busy, "%.0f%%", 100.0 * static_cast<double>(op.disk.busy_ns) / static_cast<double>(op.ns));
      std::snprintf(read, sizeof read, "%s", format_bytes(op.disk.bytes / std::max<uint64_t>(steps, 1)).c_str());
    }
    std::printf("| %s | %.2f | %.1f%% | %s | %s | %s | %s |\n", name, ms,
                total_ns ? 100.0 * static_cast<double>(op.ns) / static_cast<double>(total_ns) : 0.0,
                bytes > 0 ? format_bytes(static_cast<uint64_t>(bytes)).c_str() : "-", rate, busy, read);
  };
  const double routed_bytes = static_cast<double>(moe_layers * routed) * static_cast<double>(expert_bytes);
  // One table per run, or with rounds one per arm over all its rounds.
  std::vector<std::pair<std::string, OpTimes>> op_tables;
  std::vector<bool> in_an_arm(runs.size(), false);
  if (rounds > 1) {
    for (size_t a = 0; a < arms.size(); ++a) {
      OpTimes sum;
      for (size_t i : runs_of[a]) {
        sum = sum.plus(runs[i].ops);
        in_an_arm[i] = true;
      }
      op_tables.emplace_back(arms[a].label + " (" + std::to_string(runs_of[a].size()) + " rounds)", sum);
    }
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!in_an_arm[i]) op_tables.emplace_back(runs[i].label, runs[i].ops);
  }
  for (const auto& [label, ops] : op_tables) {
    if (ops.steps == 0) continue;
    std::printf("\n%s: a decode step by operation (%llu steps; GB/s = the weights it reads / its time, the routed "
                "experts whether from memory or disk)\n",
                label.c_str(), static_cast<unsigned long long>(ops.steps));
    std::printf("| operation | ms/step | share | weights/step | GB/s | disk busy | read/step |\n"
                "|---|---|---|---|---|---|---|\n");
    const OpTime all = ops.total();
    const bool reads = all.disk.busy_ns > 0;
    op_row("attention", ops.attention, ops.steps, all.ns, static_cast<double>(touched.attention), reads);
    op_row("dense FFN", ops.dense_ffn, ops.steps, all.ns, static_cast<double>(touched.dense_ffn), reads);
    op_row("MoE (router, shared and routed experts)", ops.moe, ops.steps, all.ns,
           static_cast<double>(touched.moe_shared) + routed_bytes, reads);
    op_row("output head", ops.head, ops.steps, all.ns, static_cast<double>(touched.head), reads);
    op_row("other (embedding, bookkeeping)", ops.other, ops.steps, all.ns, 0, reads);
    if (reads) {
      const double steps = static_cast<double>(ops.steps);
      const double step_ms = static_cast<double>(all.ns) / steps * 1e-6;
      const double busy_ms = static_cast<double>(all.disk.busy_ns) / steps * 1e-6;
      const double head_idle_ms = static_cast<double>(ops.head.ns - std::min(ops.head.ns, ops.head.disk.busy_ns)) / steps * 1e-6;
      std::printf("%s: the disk had a read in flight %.1f of the %.1f ms step (%.0f%%) and read %.1f GB/s then; "
                  "idle %.1f ms, %.1f of them in the output head\n",
                  label.c_str(), busy_ms, step_ms, 100.0 * busy_ms / step_ms,
                  static_cast<double>(all.disk.bytes) / (static_cast<double>(all.disk.busy_ns) * 1e-9) / 1e9,
                  step_ms - busy_ms, head_idle_ms);
    }
  }
  for (const DecodeRun& r : runs) {
    if (r.drafts == 0) continue;
    std::printf("%s: %llu of %llu drafts accepted (%.1f%%), %.2f tokens per verify step, %s read per token\n",
                r.label.c_str(), static_cast<unsigned long long>(r.accepted), static_cast<unsigned long long>(r.drafts),
                100.0 * static_cast<double>(r.accepted) / static_cast<double>(r.drafts),
                1.0 + static_cast<double>(r.accepted) / static_cast<double>(r.drafts),
                format_bytes(static_cast<uint64_t>(r.bytes_per_token())).c_str());
  }
  if (cgroup && cgroup->oom_kills() > 0) std::printf("cgroup: %llu OOM kills\n", static_cast<unsigned long long>(cgroup->oom_kills()));
  std::printf("bench e2e: %s, budget %s, %lld decode tokens per run\n", model_path.c_str(), streaming.ram_budget.c_str(),
              static_cast<long long>(runs.front().tokens));
  return 0;
}

}  // namespace moestream::cli
