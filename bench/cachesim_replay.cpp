// bench_cachesim_replay: how fast the simulator replays expert accesses on one core.
// Target (issue 8): LRU replay at >= 10 M expert accesses per second per core.
// Replays a synthetic DeepSeek-V3-shaped trace (58 MoE layers x 256 experts, k = 8, routing
// with some token-to-token reuse and skewed popularity) and, when present, the shared real
// DeepSeek-V2-Lite traces; prints the median and the spread over repeated runs.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "profiling/cachesim/simulator.h"
#include "profiling/cachesim/trace_loading.h"
#include "platform/clock.h"

using namespace moestream;
using namespace moestream::cachesim;

namespace {

RoutingTrace synthetic_v3_trace(uint32_t tokens) {
  const uint32_t layers = 58, experts = 256, k = 8;
  RoutingTrace t;
  t.num_layers = layers;
  t.num_experts = experts;
  t.top_k = k;
  t.num_sequences = 1;
  for (uint32_t l = 0; l < layers; ++l) t.layer_labels.push_back(3 + l);
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> uniform(0, 1);
  std::vector<std::vector<uint16_t>> prev(layers);
  for (uint32_t tok = 0; tok < tokens; ++tok) {
    t.token_sequence.push_back(0);
    t.token_phase.push_back(kPhaseDecode);
    for (uint32_t l = 0; l < layers; ++l) {
      std::vector<uint16_t> chosen;
      for (uint16_t e : prev[l])  // about 25 % reuse from the previous token
        if (chosen.size() < k && uniform(rng) < 0.25) chosen.push_back(e);
      while (chosen.size() < k) {
        double u = uniform(rng);
        auto e = static_cast<uint16_t>((static_cast<uint32_t>(u * u * experts) + 37 * l) % experts);
        if (std::find(chosen.begin(), chosen.end(), e) == chosen.end()) chosen.push_back(e);
      }
      t.step_layer.push_back(static_cast<uint16_t>(l));
      t.step_token.push_back(tok);
      t.experts.insert(t.experts.end(), chosen.begin(), chosen.end());
      prev[l] = std::move(chosen);
    }
  }
  return t;
}

struct Spread {
  double median, min, max;
};

Spread measure(ReplayContext& ctx, const SimulationSpec& spec, int repeats) {
  std::vector<double> rates;
  for (int i = 0; i < repeats; ++i) {
    Stopwatch watch;
    auto stats = simulate(ctx, spec);
    double seconds = watch.elapsed_seconds();
    if (!stats.ok()) {
      std::fprintf(stderr, "%s\n", stats.status().to_string().c_str());
      std::exit(1);
    }
    rates.push_back(static_cast<double>(stats->accesses) / seconds);
  }
  std::sort(rates.begin(), rates.end());
  return {rates[rates.size() / 2], rates.front(), rates.back()};
}

void report(const char* trace, const char* what, ReplayContext& ctx, const SimulationSpec& spec,
            int repeats) {
  Spread s = measure(ctx, spec, repeats);
  std::printf("%-28s %-26s %8.1f M/s  (min %.1f, max %.1f, %d runs)\n", trace, what,
              s.median / 1e6, s.min / 1e6, s.max / 1e6, repeats);
}

void bench_trace(const char* name, const RoutingTrace& trace, uint32_t c, int repeats) {
  ReplayContext ctx(trace, 0);
  report(name, ("LRU per layer, C=" + std::to_string(c)).c_str(), ctx,
         {PolicyKind::kLru, false, c}, repeats);
  report(name, ("LRU shared pool, C=" + std::to_string(c)).c_str(), ctx,
         {PolicyKind::kLru, true, c}, repeats);
  report(name, ("ARC per layer, C=" + std::to_string(c)).c_str(), ctx,
         {PolicyKind::kArc, false, c}, repeats);
  report(name, ("LFU per layer, C=" + std::to_string(c)).c_str(), ctx,
         {PolicyKind::kLfu, false, c}, repeats);
  ctx.next_use();  // built once, not timed
  report(name, ("OPT per layer, C=" + std::to_string(c)).c_str(), ctx,
         {PolicyKind::kBelady, false, c}, repeats);
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t tokens = argc > 1 ? static_cast<uint32_t>(std::atoi(argv[1])) : 20000;
  int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  std::printf("expert accesses replayed per second, one thread (median of %d runs)\n", repeats);
  RoutingTrace v3 = synthetic_v3_trace(tokens);
  std::printf("synthetic V3-shaped trace: %u tokens x 58 layers x k=8 = %llu accesses\n", tokens,
              static_cast<unsigned long long>(v3.num_accesses()));
  bench_trace("synthetic 58x256 k=8", v3, 64, repeats);

  namespace fs = std::filesystem;
  // ../shared next to the checkout (this file is <repo>/bench/...), or $MOESTREAM_SHARED_DIR.
  const char* env = std::getenv("MOESTREAM_SHARED_DIR");
  fs::path shared = env ? fs::path(env)
                        : fs::path(__FILE__).parent_path().parent_path().parent_path() / "shared";
  fs::path dir = shared /
                 "expert-routing-traces/deepseek-v2-lite-chat__moe-beyond/test_datasets/formatted_csvs";
  if (!fs::is_directory(dir)) {
    std::printf("shared real traces not found at %s: skipped\n", dir.string().c_str());
    return 0;
  }
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".csv") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  auto real = load_routing_traces(files, {});
  if (!real.ok()) {
    std::fprintf(stderr, "%s\n", real.status().to_string().c_str());
    return 1;
  }
  std::printf("shared DeepSeek-V2-Lite traces: %zu files, %llu accesses\n", files.size(),
              static_cast<unsigned long long>(real->num_accesses()));
  bench_trace("real V2-Lite 26x64 k=6", *real, 16, repeats * 4);
  return 0;
}
