// `moestream bench attention`: the latent attention kernel (kernels/latent_attention.h) at
// several context lengths for the small preset's head shape and DeepSeek-V3's (128 heads,
// 512 + 64 latent), decode (one token over the whole cache) and prefill (a chunk of tokens
// at the end of a prompt of that length), against two bounds measured in the same run: a
// STREAM triad (decode reads every cached row once per step, so bytes / triad bounds it) and
// the matmul kernels' f32 GEMM GFLOP/s (what the arithmetic could reach at best). Random
// rows and queries; the cache is bf16 unless --kv f32.
#include "bench_attention.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "arg_parser.h"
#include "bench_measure.h"
#include "cli_common.h"
#include "kernel_flags.h"
#include "kernels/latent_attention.h"
#include "kernels/matmul.h"
#include "platform/cpu_features.h"
#include "platform/float_formats.h"
#include "platform/scratch_arena.h"

namespace moestream::cli {
namespace {

struct HeadShape {
  const char* name;
  int64_t heads, latent, rope;
};

struct Options {
  double seconds = 0.3;
  int64_t repeat = 3;
  std::string contexts = "1024,8192,32768,131072";
  std::string shapes = "small,v3";
  std::string kv = "bf16";
  int64_t prefill_small = 256, prefill_v3 = 16;  // prefill chunk per shape
  int64_t triad_mb = 256;
};

// GFLOP/s of the f32 GEMM the matmul kernels run: 64 tokens through a 1024 x 576 weight.
double gemm_gflops(const Options& o) {
  const int64_t rows = 1024, cols = 576, n = 64;
  std::vector<float> w(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(n * cols)), y(static_cast<size_t>(n * rows));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto& v : w) v = u(rng);
  for (auto& v : x) v = u(rng);
  const kernels::WeightRef ref{kernels::WeightType::kF32, w.data(), rows, cols, kernels::BlockScaleType::kNone, nullptr, 0, 0};
  std::vector<double> rates;
  for (int64_t r = 0; r < o.repeat; ++r) {
    rates.push_back(rate(o.seconds, [&](int64_t) { kernels::matmul(ref, x.data(), n, y.data()); }) * 2.0 * rows * cols * n / 1e9);
  }
  return stats_of(rates).median;
}

struct Row {
  Stats us;
  double gflop = 0, bytes = 0;
};

Row measure(const Options& o, const HeadShape& s, int64_t context, int64_t tokens, bool bf16,
            std::vector<uint16_t>& kv16, std::vector<float>& kv32, ScratchArena& arena) {
  const int64_t width = s.latent + s.rope;
  std::vector<float> q(static_cast<size_t>(tokens * s.heads * width)), out(static_cast<size_t>(s.heads * tokens * s.latent));
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& v : q) v = normal(rng);
  kernels::LatentQueries lq;
  lq.q = q.data();
  lq.tokens = tokens;
  lq.heads = s.heads;
  lq.first_position = context - tokens;
  lq.scale = 0.07f;
  kernels::LatentKvRows kv;
  kv.rows = bf16 ? static_cast<const void*>(kv16.data()) : kv32.data();
  kv.bf16 = bf16;
  kv.row_stride = width;
  kv.latent_dim = s.latent;
  kv.rope_dim = s.rope;
  Row row;
  std::vector<double> us;
  for (int64_t r = 0; r < o.repeat; ++r) {
    us.push_back(1e6 / rate(o.seconds, [&](int64_t) { kernels::latent_attention(lq, kv, out.data(), arena); }));
  }
  row.us = stats_of(us);
  // Query-row pairs the causal chunk scores: each token sees first_position + t + 1 rows.
  const double pairs = static_cast<double>(tokens) * (context - tokens) + tokens * (tokens + 1) / 2.0;
  row.gflop = pairs * s.heads * (width + s.latent) * 2.0 / 1e9;
  row.bytes = static_cast<double>(context) * width * (bf16 ? 2 : 4);
  return row;
}

int run(int argc, char** argv) {
  Options o;
  ArgParser args("bench attention",
                 "The latent attention kernel at several contexts against a triad and the f32 GEMM, same threads and run.");
  args.option("--contexts", &o.contexts, "N,N,..", "context lengths (default 1024,8192,32768,131072)");
  args.option("--shapes", &o.shapes, "small,v3", "head shapes: small (8 x 128+16) and v3 (128 x 512+64)");
  args.option("--kv", &o.kv, "bf16|f32", "cache precision (default bf16)");
  args.option("--prefill-small", &o.prefill_small, "N", "prefill chunk for the small shape (default 256)");
  args.option("--prefill-v3", &o.prefill_v3, "N", "prefill chunk for the v3 shape (default 16)");
  args.option("--seconds", &o.seconds, "S", "time per measurement (default 0.3)");
  args.option("--repeat", &o.repeat, "N", "measurements per figure; median and spread (default 3)");
  args.option("--triad-mb", &o.triad_mb, "MiB", "size of each triad array (default 256)");
  KernelFlags kernel_flags;
  kernel_flags.add_to(args);
  if (!args.parse(argc, argv)) return args.exit_code();
  if (Status s = kernel_flags.apply(); !s.ok()) return usage_error("bench attention", s);
  if (o.kv != "bf16" && o.kv != "f32") return usage_error("bench attention", "--kv takes bf16 or f32");
  if (o.repeat < 1 || o.seconds <= 0 || o.triad_mb < 8) return usage_error("bench attention", "--repeat >= 1, --seconds > 0, --triad-mb >= 8");
  std::string bad;
  const auto contexts = parse_count_list(o.contexts, int64_t{1} << 20, &bad);
  if (!contexts) return usage_error("bench attention", "--contexts: '" + bad + "' is not a count in 1..1048576");
  std::vector<HeadShape> shapes;
  for (const std::string& name : split_list(o.shapes)) {
    if (name == "small") shapes.push_back({"small", 8, 128, 16});
    else if (name == "v3") shapes.push_back({"v3", 128, 512, 64});
    else return usage_error("bench attention", "--shapes takes small and v3, not '" + name + "'");
  }
  const bool bf16 = o.kv == "bf16";

  Triad triad(o.triad_mb);
  std::vector<double> triads;
  for (int64_t r = 0; r < o.repeat; ++r) triads.push_back(triad.measure(o.seconds));
  const double triad_gbs = stats_of(triads).median;
  const double gemm = gemm_gflops(o);
  std::printf("%s, %lld thread(s), %s KV, attention ops %s\n", cpu_features().brand.c_str(),
              static_cast<long long>(kernels::kernel_threads()), o.kv.c_str(), kernels::active_latent_attention_ops().name);
  std::printf("triad %.1f GB/s; f32 GEMM (64 x 1024 x 576) %.1f GFLOP/s\n\n", triad_gbs, gemm);
  std::printf("| shape | context | step | tokens | us/call (spread) | GFLOP/s | / GEMM | KV GB/s | / triad |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  double decode_v3_32k = 0;
  ScratchArena arena(1 << 20);
  for (const HeadShape& s : shapes) {
    const int64_t width = s.latent + s.rope;
    const int64_t most = *std::max_element(contexts->begin(), contexts->end());
    std::vector<uint16_t> kv16;
    std::vector<float> kv32;
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    if (bf16) {
      kv16.resize(static_cast<size_t>(most * width));
      for (auto& v : kv16) v = f32_to_bf16(normal(rng));
    } else {
      kv32.resize(static_cast<size_t>(most * width));
      for (auto& v : kv32) v = normal(rng);
    }
    for (int64_t context : *contexts) {
      const int64_t chunk = std::min(context, s.heads > 16 ? o.prefill_v3 : o.prefill_small);
      for (const auto& [step, tokens] : {std::pair<const char*, int64_t>{"decode", 1}, {"prefill", chunk}}) {
        const Row r = measure(o, s, context, tokens, bf16, kv16, kv32, arena);
        const double gflops = r.gflop / (r.us.median * 1e-6);
        const double gbs = r.bytes / (r.us.median * 1e-6) / 1e9;
        std::printf("| %s | %lld | %s | %lld | %.0f (%.0f..%.0f) | %.1f | %.2f | %.1f | %.2f |\n", s.name,
                    static_cast<long long>(context), step, static_cast<long long>(tokens), r.us.median, r.us.min,
                    r.us.max, gflops, gflops / gemm, gbs, gbs / triad_gbs);
        if (std::string(s.name) == "v3" && context == 32768 && tokens == 1) decode_v3_32k = gflops / gemm;
      }
    }
  }
  if (decode_v3_32k > 0) {
    std::printf("\nbench attention: V3 decode at 32K context at %.2f x the f32 GEMM (compute binds: %.0f flops per KV byte)\n",
                decode_v3_32k, 128.0 * (576 + 512) * 2 / (576 * (bf16 ? 2.0 : 4.0)));
  } else {
    std::printf("\nbench attention: done\n");
  }
  return 0;
}

}  // namespace

int run_bench_attention(int argc, char** argv) { return run(argc, argv); }

}  // namespace moestream::cli
