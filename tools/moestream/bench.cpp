// `moestream bench WHAT ...`: benchmarks of the engine's parts. `bench loader` measures
// expert streaming against fio.
#include <cstdio>
#include <cstring>

#include "bench_attention.h"
#include "bench_batch.h"
#include "bench_e2e.h"
#include "bench_grammar.h"
#include "bench_kernels.h"
#include "bench_loader.h"
#include "bench_serve.h"
#include "command_registry.h"

namespace moestream::cli {
namespace {

int run_bench(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "loader") == 0) return run_bench_loader(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "kernels") == 0) return run_bench_kernels(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "attention") == 0) return run_bench_attention(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "batch") == 0) return run_bench_batch(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "e2e") == 0) return run_bench_e2e(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "grammar") == 0) return run_bench_grammar(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "serve") == 0) return run_bench_serve(argc - 1, argv + 1);
  std::fprintf(argc >= 2 && std::strcmp(argv[1], "--help") == 0 ? stdout : stderr,
               "usage: moestream bench loader MODEL.mst [--request-size N] [--queue-depth N] [--seconds S]\n"
               "                               [--throttle-mbps MB/s] [--sweep] [--io-backend auto|pread]\n"
               "  loader: expert loader bandwidth against fio on the same file\n"
               "       moestream bench kernels [--threads N] [--seconds S] [--repeat N] [--batch N] [--shapes expert|attn|all]\n"
               "  kernels: FP8/BF16 GEMV and GEMM against a STREAM triad and XNNPACK f32, small-model tokens/s\n"
               "       moestream bench attention [--contexts 1024,8192,32768,131072] [--shapes small,v3] [--kv bf16|f32]\n"
               "  attention: the latent attention kernel, decode and prefill, against a triad and the f32 GEMM\n"
               "       moestream bench batch MODEL.mst [--sequences 1,4,16,64] [--ram-budget B] [engine flags]\n"
               "  batch: the engine at several batch sizes: tok/s, expert bytes per token, acquisitions per step\n"
               "       moestream bench serve MODEL.mst [--clients 1,8,64] [--ram-budget B] [engine flags]\n"
               "  serve: HTTP streaming clients against the engine alone: tok/s and time to first token\n"
               "       moestream bench e2e MODEL.mst --ram-budget B [--cgroup] [--drop-caches] [--baseline mmap]\n"
               "  e2e: decode tok/s under a budget against the I/O bound (fio) and memory bound (triad), same run\n"
               "       moestream bench grammar [MODEL.mst] [--schema FILE] [--generations N]\n"
               "  grammar: JSON-mode and schema token masks on the full vocabulary (median, p99), against a decode step\n");
  return argc >= 2 && std::strcmp(argv[1], "--help") == 0 ? 0 : 2;
}

MOESTREAM_REGISTER_COMMAND("bench", "benchmarks: loader (against fio), kernels (against a triad), attention, batch, serve, e2e, grammar", run_bench);

}  // namespace
}  // namespace moestream::cli
