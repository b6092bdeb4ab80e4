// `moestream bench kernels`: the matrix kernels against memory bandwidth and XNNPACK.
// Measures a STREAM-style triad (a = b + s c, doubles, 3 arrays far larger than the caches)
// on the kernel thread pool, then on the same threads and in the same process: FP8 GEMV
// (every kernel set this CPU runs) on the DeepSeek-V3 expert and attention shapes, BF16 GEMV
// and the fused SwiGLU expert on the expert shapes, GEMM at --batch tokens against XNNPACK's
// f32 fully-connected operator, and prefill / decode tokens per second of the synthetic
// small model. Weights rotate over copies totalling twice the last-level cache (at least
// 256 MB) so every GEMV streams from DRAM. Each figure is the median of --repeat runs of
// --seconds; the spread is min..max.
#include "bench_kernels.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "arg_parser.h"
#include "bench_measure.h"
#include "cli_common.h"
#include "runtime/engine/engine.h"
#include "runtime/model.h"
#include "format/synthetic_model.h"
#include "kernels/fused_expert.h"
#include "kernels/kernel_threads.h"
#include "kernels/matmul_dispatch.h"
#include "kernels/xnnpack_gemm.h"
#include "platform/clock.h"
#include "platform/cpu_features.h"
#include "platform/float_formats.h"

namespace moestream::cli {
namespace {

struct Options {
  double seconds = 0.3;
  int64_t repeat = 3;
  int64_t batch = 32;
  int64_t triad_mb = 0;   // 0: max(256, the last-level cache) per array
  int64_t rotate_mb = 0;  // weight copies per shape, so GEMVs stream from DRAM; 0: max(256, 2 x LLC)
  int64_t prefill = 64, decode = 16;
  int64_t few = 4;  // tokens of the "few tokens" rows (an expert's share of a prefill)
  bool reference = false, skip_model = false;
};

// Random weight bytes of one type, `copies` copies of [rows, cols], with f32 128x128 scales.
struct WeightCopies {
  std::vector<uint8_t> data;
  std::vector<float> scales;
  std::vector<kernels::WeightRef> refs;
  int64_t bytes_each = 0;  // weights + scales
};

WeightCopies make_copies(kernels::WeightType type, int64_t rows, int64_t cols, int64_t min_total) {
  WeightCopies w;
  const int64_t elem = type == kernels::WeightType::kBF16 ? 2 : type == kernels::WeightType::kF32 ? 4 : 1;
  const int64_t sr = (rows + 127) / 128, sc = (cols + 127) / 128;
  const int64_t data_bytes = rows * cols * elem;
  const int64_t scale_count = type == kernels::WeightType::kF8E4M3 ? sr * sc : 0;
  w.bytes_each = data_bytes + scale_count * 4;
  const int64_t copies = std::max<int64_t>(2, (min_total + w.bytes_each - 1) / w.bytes_each);
  w.data.resize(static_cast<size_t>(copies * data_bytes));
  w.scales.resize(static_cast<size_t>(copies * scale_count));
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&] { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; };
  if (type == kernels::WeightType::kF8E4M3) {
    for (auto& v : w.data) {
      v = static_cast<uint8_t>(next());
      if ((v & 0x7f) >= 0x78) v &= 0xb7;  // keep |e4m3| moderate and never NaN
    }
  } else if (type == kernels::WeightType::kBF16) {
    auto* p = reinterpret_cast<uint16_t*>(w.data.data());
    for (int64_t i = 0; i < copies * rows * cols; ++i) p[i] = f32_to_bf16(static_cast<float>(static_cast<int64_t>(next() % 2001) - 1000) * 1e-3f);
  } else {
    auto* p = reinterpret_cast<float*>(w.data.data());
    for (int64_t i = 0; i < copies * rows * cols; ++i) p[i] = static_cast<float>(static_cast<int64_t>(next() % 2001) - 1000) * 1e-3f;
  }
  for (auto& s : w.scales) s = 1e-3f;
  for (int64_t c = 0; c < copies; ++c) {
    kernels::WeightRef ref{type, w.data.data() + c * data_bytes, rows, cols, kernels::BlockScaleType::kNone, nullptr, 0, 0};
    if (type == kernels::WeightType::kF8E4M3) {
      ref.scale_type = kernels::BlockScaleType::kF32;
      ref.scales = w.scales.data() + c * scale_count;
      ref.block_rows = ref.block_cols = 128;
    }
    w.refs.push_back(ref);
  }
  return w;
}

struct Shape {
  const char* name;
  int64_t rows, cols;
  bool expert;
};

// DeepSeek-V3 671B: expert gate/up and down, and the MLA projections.
const Shape kShapes[] = {
    {"expert gate/up", 2048, 7168, true}, {"expert down", 7168, 2048, true},
    {"attn q_a_proj", 1536, 7168, false},  {"attn q_b_proj", 24576, 1536, false},
    {"attn kv_a_proj", 576, 7168, false},  {"attn kv_b_proj", 32768, 512, false},
    {"attn o_proj", 7168, 16384, false},
};

// One table row. Bandwidth rows alternate each kernel measurement with a triad measurement
// and report the median of the per-pair ratios (robust to load that changes over the run).
struct Measured {
  Stats us, ratio;
  double triad_gbs = 0;
};

template <typename Fn>
Measured measure(const Options& o, Triad* triad, double bytes, Fn&& fn) {
  std::vector<double> us, ratios, triads;
  for (int64_t r = 0; r < o.repeat; ++r) {
    const double t = triad ? triad->measure(o.seconds) : 0.0;
    const double call_us = 1e6 / rate(o.seconds, fn);
    us.push_back(call_us);
    if (triad) {
      triads.push_back(t);
      ratios.push_back(bytes / (call_us * 1e-6) / 1e9 / t);
    }
  }
  Measured m;
  m.us = stats_of(us);
  if (triad) {
    m.ratio = stats_of(ratios);
    m.triad_gbs = stats_of(triads).median;
  }
  return m;
}

void print_row(const std::string& kernel, const Shape& s, int64_t batch, const Measured& m, double bytes,
               const std::string& note) {
  const double gbs = bytes / (m.us.median * 1e-6) / 1e9;
  const double gflops = 2.0 * static_cast<double>(s.rows * s.cols) * static_cast<double>(batch) / (m.us.median * 1e-6) / 1e9;
  char ratio[64] = "-";
  if (m.triad_gbs > 0) std::snprintf(ratio, sizeof ratio, "%.2f (%.2f..%.2f)", m.ratio.median, m.ratio.min, m.ratio.max);
  std::printf("| %-19s | %-14s | %5lld x %-5lld | %5lld | %8.0f (%.0f..%.0f) | %6.1f | %-18s | %7.1f | %s |\n", kernel.c_str(),
              s.name, static_cast<long long>(s.rows), static_cast<long long>(s.cols), static_cast<long long>(batch),
              m.us.median, m.us.min, m.us.max, gbs, ratio, gflops, note.c_str());
  std::fflush(stdout);
}

}  // namespace

namespace {

struct ModelRates {
  double prefill_tps = 0, decode_tps = 0;
};

// Synthesizes the small preset into a temporary file (once) and runs prefill + decode.
Result<ModelRates> model_rates(const Options& o, const std::string& path) {
  EngineOptions options;
  options.threads = kernels::kernel_threads();  // as set by --threads
  options.max_context = o.prefill + o.decode + 1;
  options.max_sequences = 1;
  options.prefill_chunk = o.prefill;
  options.prefix_cache.ram_bytes = 0;
  options.load_tokenizer = false;
  MOESTREAM_ASSIGN_OR_RETURN(auto engine, Engine::open(path, options));
  ModelRates rates;
  MOESTREAM_TRY(engine->run_exclusive([&](Model& model) -> Status {
    const int64_t vocab = model.config().vocab_size;
    std::vector<int32_t> prompt(static_cast<size_t>(o.prefill));
    for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>((i * 7919 + 1) % static_cast<size_t>(vocab));
    std::vector<float> logits;
    KvCache cache = model.new_kv_cache();
    ForwardOutputs outputs;
    outputs.logits = &logits;
    Stopwatch watch;
    MOESTREAM_TRY(model.forward(prompt, cache, outputs));
    rates.prefill_tps = static_cast<double>(o.prefill) / watch.elapsed_seconds();
    watch.reset();
    int32_t token = 1;
    for (int64_t i = 0; i < o.decode; ++i) {
      MOESTREAM_TRY(model.forward(std::span<const int32_t>(&token, 1), cache, outputs));
      token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    }
    rates.decode_tps = static_cast<double>(o.decode) / watch.elapsed_seconds();
    return ok_status();
  }));
  return rates;
}

}  // namespace

int run_bench_kernels(int argc, char** argv) {
  ArgParser args("bench kernels", "Matrix kernels against a STREAM triad (same threads, same process) and XNNPACK f32, "
                                  "plus tokens/s of the synthetic small model.");
  Options o;
  int64_t threads = 0;
  std::string only = "all";
  args.option("--threads", &threads, "N", "kernel threads (default 0 = all cores)", 0, 1024);
  args.option("--seconds", &o.seconds, "S", "time per measurement (default 0.3)", 0.001, 3600);
  args.option("--repeat", &o.repeat, "N", "measurements per figure, median reported (default 3)", 1, 1000);
  args.option("--batch", &o.batch, "N", "tokens for the GEMM rows (default 32)", 1, 4096);
  args.option("--few", &o.few, "N", "tokens for the few-token rows: GEMV tiles, weights streamed once (default 4)", 1, 4096);
  args.option("--triad-mb", &o.triad_mb, "MiB", "size of each triad array (default 0: the last-level cache, at least 256)", 0,
              1 << 20);
  args.option("--rotate-mb", &o.rotate_mb, "MiB",
              "weight copies rotated per shape (default 0: twice the last-level cache, at least 256)", 0, 1 << 20);
  args.option("--shapes", &only, "expert|attn|all|NAME", "which weight shapes, or one by name, e.g. kv_a_proj (default all)");
  args.option("--prefill", &o.prefill, "N", "prompt tokens for the small model (default 64)", 1, 65536);
  args.option("--decode", &o.decode, "N", "decode steps for the small model (default 16)", 1, 65536);
  args.flag("--reference", &o.reference, "also time the scalar reference kernels (slow)");
  args.flag("--no-model", &o.skip_model, "skip the synthetic small model");
  if (!args.parse(argc, argv)) return args.exit_code();
  if (o.triad_mb > 0 && o.triad_mb < 8) return usage_error("bench kernels", "--triad-mb takes 0 (default) or 8 and more");
  bool known_shape = only == "all" || only == "expert" || only == "attn";
  for (const Shape& s : kShapes) known_shape = known_shape || std::string(s.name).find(only) != std::string::npos;
  if (!known_shape || only.empty()) {
    std::string names;
    for (const Shape& s : kShapes) names += std::string(names.empty() ? "" : ", ") + s.name;
    return usage_error("bench kernels", "--shapes takes expert, attn, all or a shape name (" + names + "), not '" + only + "'");
  }
  // Buffers larger than the last-level cache, so every figure is a DRAM figure (a 480 MB L3
  // held a 256 MB rotation partly in cache).
  const int64_t llc_mb = (cpu_features().last_level_cache_bytes + (1 << 20) - 1) >> 20;
  if (o.triad_mb == 0) o.triad_mb = std::max<int64_t>(256, llc_mb);
  if (o.rotate_mb == 0) o.rotate_mb = std::max<int64_t>(256, 2 * llc_mb);
  kernels::set_kernel_threads(threads);
  const int64_t nthreads = kernels::kernel_threads();
  std::printf("cpu: %s [%s], last-level cache %lld MB, %lld kernel thread(s), best kernels: %s\n",
              cpu_features().brand.c_str(), cpu_features().summary().c_str(), static_cast<long long>(llc_mb),
              static_cast<long long>(nthreads), kernels::best_matmul_kernels().name);
  std::printf("weights rotate over %lld MB per shape\n", static_cast<long long>(o.rotate_mb));
  Triad triad(o.triad_mb);
  std::vector<double> triads;
  for (int64_t r = 0; r < o.repeat; ++r) triads.push_back(triad.measure(o.seconds));
  const Stats tri = stats_of(triads);
  std::printf("triad: %.1f GB/s (%.1f..%.1f) over 3 x %lld MB; each bandwidth row below alternates its runs with triad runs\n\n",
              tri.median, tri.min, tri.max, static_cast<long long>(o.triad_mb));
  std::printf("| kernel              | shape          | rows x cols   | batch | us/call (spread)     | GB/s   | / triad (spread)   | GFLOP/s | note |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");

  std::vector<std::string> sets = kernels::available_matmul_kernels();
  if (!o.reference) sets.erase(sets.begin());
  const kernels::MatmulKernels& best = kernels::best_matmul_kernels();
  const std::string best_name = best.name;
  double best_expert_ratio = 0, best_gemm = 0, best_xnn = 0;
  for (const Shape& s : kShapes) {
    const bool named = std::string(s.name).find(only) != std::string::npos;
    if (!(only == "all" || named || (only == "expert" && s.expert) || (only == "attn" && !s.expert))) continue;
    const int64_t max_tokens = std::max(o.batch, o.few);
    std::vector<float> x(static_cast<size_t>(s.cols * max_tokens)), y(static_cast<size_t>(s.rows * max_tokens));
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(static_cast<int64_t>(i % 17) - 8) * 0.1f;
    {
      WeightCopies fp8 = make_copies(kernels::WeightType::kF8E4M3, s.rows, s.cols, o.rotate_mb * (1 << 20));
      const size_t copies = fp8.refs.size();
      const double bytes = static_cast<double>(fp8.bytes_each);
      for (const std::string& name : sets) {
        const kernels::MatmulKernels& k = *kernels::matmul_kernels_named(name);
        const Measured m = measure(o, &triad, bytes, [&](int64_t i) { k.matvec_rows(fp8.refs[i % copies], 0, s.rows, x.data(), y.data()); });
        print_row("fp8 gemv " + name, s, 1, m, bytes, "");
        if (s.expert) best_expert_ratio = std::max(best_expert_ratio, m.ratio.median);
      }
      for (const std::string& name : sets) {
        if (name == "reference") continue;
        const kernels::MatmulKernels& k = *kernels::matmul_kernels_named(name);
        const Measured m = measure(o, &triad, bytes, [&](int64_t i) { k.matmul(fp8.refs[i % copies], x.data(), o.few, y.data()); });
        print_row("fp8 gemv-n " + name, s, o.few, m, bytes, "");
      }
      for (const std::string& name : sets) {
        if (name == "reference") continue;
        const kernels::MatmulKernels& k = *kernels::matmul_kernels_named(name);
        const Measured m = measure(o, nullptr, bytes, [&](int64_t i) { k.matmul(fp8.refs[i % copies], x.data(), o.batch, y.data()); });
        print_row("fp8 gemm " + name, s, o.batch, m, bytes, "");
        best_gemm = std::max(best_gemm, 2.0 * static_cast<double>(s.rows * s.cols * o.batch) / (m.us.median * 1e-6) / 1e9);
      }
    }
    if (s.expert) {
      WeightCopies bf16 = make_copies(kernels::WeightType::kBF16, s.rows, s.cols, o.rotate_mb * (1 << 20));
      const double bytes = static_cast<double>(bf16.bytes_each);
      const Measured m = measure(o, &triad, bytes, [&](int64_t i) { best.matvec_rows(bf16.refs[i % bf16.refs.size()], 0, s.rows, x.data(), y.data()); });
      print_row("bf16 gemv " + best_name, s, 1, m, bytes, "");
    }
    // XNNPACK f32, packed copies rotated like ours so batch 1 streams from DRAM too (one
    // resident copy sat in the L3 and read "2.3 x triad"). Packing is part of its cost: a note.
    const int64_t f32_bytes = s.rows * s.cols * 4;
    const int64_t xnn_copies = std::max<int64_t>(2, (o.rotate_mb * (1 << 20) + f32_bytes - 1) / f32_bytes);
    std::vector<std::unique_ptr<kernels::XnnpackLinear>> xnn;
    Status xnn_status;
    double pack_ms = 0;
    {
      WeightCopies f32 = make_copies(kernels::WeightType::kF32, s.rows, s.cols, 0);
      const Stopwatch pack;
      for (int64_t c = 0; c < xnn_copies && xnn_status.ok(); ++c) {
        auto made = kernels::XnnpackLinear::create(reinterpret_cast<const float*>(f32.refs[0].data), s.rows, s.cols, nthreads);
        if (made.ok()) xnn.push_back(std::move(*made));
        else xnn_status = made.status();
      }
      pack_ms = pack.elapsed_seconds() * 1e3 / static_cast<double>(xnn_copies);
    }
    if (!xnn_status.ok()) {
      std::printf("| xnnpack f32 fc | %s | unavailable: %s |\n", s.name, xnn_status.to_string().c_str());
      continue;
    }
    char note[96];
    std::snprintf(note, sizeof note, "f32 weights (4 B/elem), packing took %.0f ms per copy", pack_ms);
    const double bytes = static_cast<double>(f32_bytes);
    for (int64_t batch : {int64_t{1}, o.batch}) {
      const Measured m = measure(o, batch == 1 ? &triad : nullptr, bytes, [&](int64_t i) {
        (void)xnn[static_cast<size_t>(i) % xnn.size()]->run(x.data(), batch, y.data());
      });
      print_row("xnnpack f32 fc", s, batch, m, bytes, note);
      if (batch > 1) best_xnn = std::max(best_xnn, 2.0 * static_cast<double>(s.rows * s.cols * batch) / (m.us.median * 1e-6) / 1e9);
    }
  }
  if (only == "all" || only == "expert") {
    // The fused SwiGLU expert: gate + up (2048 x 7168 each) then down (7168 x 2048).
    WeightCopies gu = make_copies(kernels::WeightType::kF8E4M3, 2048, 7168, o.rotate_mb * (1 << 20));
    WeightCopies down = make_copies(kernels::WeightType::kF8E4M3, 7168, 2048, o.rotate_mb * (1 << 20) / 2);
    const size_t pairs = gu.refs.size() / 2, downs = down.refs.size();
    const int64_t max_tokens = std::max(o.batch, o.few);
    std::vector<float> x(static_cast<size_t>(7168 * max_tokens), 0.25f), y(static_cast<size_t>(7168 * max_tokens));
    const double bytes = 2.0 * static_cast<double>(gu.bytes_each) + static_cast<double>(down.bytes_each);
    char note[64];
    std::snprintf(note, sizeof note, "gate+up+down, %.1f MB of weights", bytes / 1e6);
    for (const std::string& name : sets) {
      const kernels::MatmulKernels& k = *kernels::matmul_kernels_named(name);
      for (int64_t batch : {int64_t{1}, o.few, o.batch}) {
        if (batch > 1 && name == "reference") continue;
        const Measured m = measure(o, batch <= o.few ? &triad : nullptr, bytes, [&](int64_t i) {
          const size_t p = static_cast<size_t>(i) % pairs;
          kernels::swiglu_expert(k, gu.refs[2 * p], gu.refs[2 * p + 1], down.refs[static_cast<size_t>(i) % downs], x.data(), batch, y.data());
        });
        const Shape three{"expert swiglu", 3 * 2048, 7168, true};  // 3 products of 2048 x 7168
        print_row("fused expert " + name, three, batch, m, bytes, note);
      }
    }
  }

  ModelRates rates;
  if (!o.skip_model) {
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("moestream-bench-small-" + std::to_string(::getpid()) + ".mst")).string();
    SynthOptions synth;
    synth.preset = "small";
    synth.progress = false;
    auto made = synthesize_container(synth, path);
    if (!made.ok()) return report_error(made.status());
    std::printf("\n");
    for (const std::string& name : sets) {
      kernels::set_active_matmul_kernels(*kernels::matmul_kernels_named(name));
      auto measured = model_rates(o, path);
      if (!measured.ok()) {
        std::error_code ec;
        std::filesystem::remove(path, ec);
        return report_error(measured.status());
      }
      std::printf("synthetic small model, %s kernels, %lld thread(s): prefill %lld tokens %.1f tok/s, decode %lld tokens %.1f tok/s\n",
                  name.c_str(), static_cast<long long>(nthreads), static_cast<long long>(o.prefill), measured->prefill_tps,
                  static_cast<long long>(o.decode), measured->decode_tps);
      if (name == best_name) rates = *measured;
    }
    kernels::set_active_matmul_kernels(best);
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  std::printf("\nbench kernels: triad %.1f GB/s on %lld thread(s); best expert FP8 GEMV at %.2f x triad; GEMM batch %lld "
              "%.1f GFLOP/s vs XNNPACK f32 %.1f; small model prefill %.1f tok/s, decode %.1f tok/s\n",
              tri.median, static_cast<long long>(nthreads), best_expert_ratio, static_cast<long long>(o.batch), best_gemm,
              best_xnn, rates.prefill_tps, rates.decode_tps);
  return 0;
}

}  // namespace moestream::cli
