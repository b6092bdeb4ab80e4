// `moestream cachesim TRACE...`: replays expert-routing traces (.mstrace or the routing CSVs
// of ../shared/expert-routing-traces) against cache policies and sizes; prints hit rate,
// all-k-resident steps, loads and bytes per token, prefetch recall and waste; --json, --svg.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "profiling/cachesim/json_report.h"
#include "profiling/cachesim/svg_plot.h"
#include "profiling/cachesim/sweep.h"
#include "profiling/cachesim/text_report.h"
#include "profiling/cachesim/trace_loading.h"
#include "platform/file.h"
#include "platform/progress_bar.h"

namespace moestream::cli {
namespace {

using namespace moestream::cachesim;

bool parse_uint_list(const std::string& text, const char* what, std::vector<uint32_t>* out) {
  std::string bad;
  const auto values = parse_count_list(text, 1'000'000, &bad);
  if (!values) {
    std::fprintf(stderr, "moestream cachesim: %s: '%s' is not a positive integer\n", what, bad.c_str());
    return false;
  }
  for (int64_t v : *values) out->push_back(static_cast<uint32_t>(v));
  return true;
}

Status write_text_file(const std::string& path, const std::string& text) {
  MOESTREAM_ASSIGN_OR_RETURN(AtomicFileWriter file, AtomicFileWriter::create(path));
  MOESTREAM_TRY(file.write(text.data(), text.size()));
  return file.commit();
}

int run_cachesim(int argc, char** argv) {
  ArgParser args("cachesim",
                 "Replay expert-routing traces against expert-cache policies and sizes. Traces "
                 "are .mstrace files (moestream profile) or routing CSVs with the header "
                 "'Layer ID,Batch Number,Token,Activated Expert IDs' (one file per prompt). "
                 "The first --train-fraction of the sequences trains the static hot set and the "
                 "co-occurrence predictor; the rest is replayed from an empty cache. See "
                 "docs/profiling.md.");
  std::vector<std::string> traces;
  std::string sizes_text, policies_text = "lru,lfu,lfu-decay,arc,static,static-oracle,opt", pool = "both";
  std::string prefetch_text = "oracle,cooccurrence,pregate", budgets_text, base = "lru";
  std::string expert_bytes_text, svg_path;
  double train_fraction = 0.5, half_life = 32;
  int64_t num_experts = 0;
  bool json = false, quiet = false, per_layer = false, force = false;
  args.positional_list("TRACE", &traces, ".mstrace files or routing CSV files, replayed in order");
  args.option("--sizes", &sizes_text, "C,C,...",
              "experts cached per layer (default: k and N x 1/8, 3/16, 1/4, 3/8, 1/2, 3/4)");
  args.option("--policies", &policies_text, "LIST",
              "lru, lfu, lfu-decay, arc, static, static-oracle, opt (default: these), opt-admit");
  args.option("--pool", &pool, "MODE", "per-layer, shared (one pool of C x layers) or both");
  args.option("--prefetch", &prefetch_text, "LIST",
              "prefetch models: oracle, cooccurrence, pregate, or none");
  args.option("--prefetch-budget", &budgets_text, "M,M,...", "experts a prefetch may name per step (default: k)");
  args.option("--prefetch-base", &base, "POLICY", "cache policy under the prefetch models (default lru)");
  args.option("--train-fraction", &train_fraction, "F",
              "share of sequences used for training (default 0.5; 0: replay everything)");
  args.option("--lfu-half-life", &half_life, "TOKENS", "half-life of decayed LFU counts (default 32)");
  args.option("--expert-bytes", &expert_bytes_text, "BYTES",
              "bytes read per expert load (default: the trace header, else DeepSeek-V3's "
              "44,050,944)");
  args.option("--experts", &num_experts, "N", "routed experts per layer for CSV traces (default: largest id + 1)");
  args.flag("--json", &json, "print the results as JSON instead of tables");
  args.flag("--per-layer", &per_layer, "add a per-layer hit-rate table (first policy)");
  args.option("--svg", &svg_path, "FILE", "write a plot of hit rate against cache size");
  args.flag("--quiet", &quiet, "no progress on stderr");
  args.flag("--force", &force, "replace --svg if it exists");
  if (!args.parse(argc, argv)) return args.exit_code();

  auto usage = [](const std::string& message) {
    std::fprintf(stderr, "moestream cachesim: %s\n", message.c_str());
    return 2;
  };
  SweepConfig config;
  if (!parse_uint_list(sizes_text, "--sizes", &config.sizes)) return 2;
  if (!parse_uint_list(budgets_text, "--prefetch-budget", &config.prefetch_budgets)) return 2;
  config.policies.clear();
  for (const auto& name : split_list(policies_text)) {
    auto p = parse_policy(name);
    if (!p) return usage("--policies: unknown policy '" + name + "' (lru, lfu, lfu-decay, arc, static, static-oracle, opt, opt-admit)");
    config.policies.push_back(*p);
  }
  if (config.policies.empty()) return usage("--policies is empty");
  config.prefetch.clear();
  for (const auto& name : split_list(prefetch_text)) {
    auto p = parse_prefetch(name);
    if (!p) return usage("--prefetch: unknown prefetch model '" + name + "' (oracle, cooccurrence, pregate, none)");
    if (*p != PrefetchKind::kNone) config.prefetch.push_back(*p);
  }
  auto base_policy = parse_policy(base);
  if (!base_policy || !is_online(*base_policy))
    return usage("--prefetch-base must be an online policy (lru, lfu, lfu-decay, arc, static)");
  config.prefetch_base = *base_policy;
  if (pool == "per-layer") config.shared = false;
  else if (pool == "shared") config.per_layer = false;
  else if (pool != "both") return usage("--pool must be per-layer, shared or both");
  if (train_fraction < 0 || train_fraction >= 1) return usage("--train-fraction must be in [0, 1)");
  config.train_fraction = train_fraction;
  if (half_life <= 0) return usage("--lfu-half-life must be positive");
  config.lfu_half_life_tokens = half_life;
  if (num_experts < 0 || num_experts > 65535) return usage("--experts must be in 1..65535");
  if (!svg_path.empty()) {
    if (Status s = check_output_path(svg_path, "--svg", OutputKind::kFile, force, traces); !s.ok()) {
      std::fprintf(stderr, "moestream cachesim: %s\n", s.to_string().c_str());
      return 1;
    }
  }

  RoutingCsvOptions csv;
  csv.num_experts = static_cast<uint32_t>(num_experts);
  auto trace = load_routing_traces(traces, csv);
  if (!trace.ok()) {
    std::fprintf(stderr, "moestream cachesim: %s\n", trace.status().to_string().c_str());
    return 1;
  }
  if (!expert_bytes_text.empty()) {
    auto bytes = parse_byte_size(expert_bytes_text);
    if (!bytes || *bytes == 0) return usage("--expert-bytes: '" + expert_bytes_text + "' is not a size");
    config.expert_bytes = *bytes;
    config.expert_bytes_source = "--expert-bytes";
  } else if (trace->expert_bytes) {
    config.expert_bytes = trace->expert_bytes;
    config.expert_bytes_source = "trace header";
  }
  for (uint32_t c : config.sizes)
    if (c > trace->num_experts)
      return usage("cache size " + std::to_string(c) + " is larger than the " +
                   std::to_string(trace->num_experts) + " experts per layer");

  std::optional<ProgressBar> bar;
  auto result = run_sweep(*trace, config, [&](size_t done, size_t total) {
    if (!bar) bar.emplace("cachesim", total, "runs", !quiet);
    bar->update(done);
  });
  if (!result.ok()) {
    std::fprintf(stderr, "moestream cachesim: %s\n", result.status().to_string().c_str());
    return 1;
  }
  if (!svg_path.empty()) {
    Status s = write_text_file(svg_path, render_hit_rate_svg(*result));
    if (!s.ok()) {
      std::fprintf(stderr, "moestream cachesim: %s\n", s.to_string().c_str());
      return 1;
    }
  }
  std::string report = json ? format_json_report(*result) : format_text_report(*result, {.per_layer = per_layer});
  std::fwrite(report.data(), 1, report.size(), stdout);
  std::fflush(stdout);
  char summary[256];
  std::snprintf(summary, sizeof(summary),
                "cachesim: %zu runs over %llu expert accesses in %.2f s%s%s", result->runs.size(),
                static_cast<unsigned long long>(result->replayed_accesses), result->seconds,
                svg_path.empty() ? "" : ", plot: ", svg_path.c_str());
  if (bar) bar->finish(summary);
  else std::fprintf(stderr, "%s\n", summary);
  return 0;
}

MOESTREAM_REGISTER_COMMAND("cachesim",
                           "replay expert-routing traces against cache policies (hit rates, OPT bound, plots)",
                           run_cachesim);

}  // namespace
}  // namespace moestream::cli
