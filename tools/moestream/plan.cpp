// `moestream plan MODEL.mst [--context N] [--parallel N] [--ram-budget SIZE] ...`: what a run
// of this model would hold, without loading it: the KV cache for the requested context, the
// forward pass's scratch (which does not grow with the context), the logits, the resident
// weights and, under a budget, the expert slots left and the longest context that fits; with
// no budget, the smallest budget that runs the requested context.
#include <cstdio>
#include <string>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "engine_flags.h"
#include "kernel_flags.h"
#include "kernels/kernel_threads.h"
#include "platform/progress_bar.h"
#include "runtime/engine/streaming_session.h"
#include "runtime/kv_cache.h"
#include "runtime/model.h"
#include "streaming_flags.h"

namespace moestream::cli {
namespace {

struct Request {
  int64_t context = 4096, parallel = 1, prefill_chunk = 256;
  KvCachePrecision precision = KvCachePrecision::kF32;
};

StreamingWorkload workload_of(const Request& r, int64_t context) {
  StreamingWorkload w;
  w.kv_tokens = context * r.parallel;
  w.step_rows = r.prefill_chunk + r.parallel;
  w.logit_rows = r.parallel;
  w.kv_precision = r.precision;
  return w;
}

// The longest context per sequence whose plan still leaves the minimum expert slots (0: none).
int64_t longest_context(const ContainerReader& reader, const StreamingOptions& s, const Request& r, int64_t most) {
  int64_t lo = 0, hi = most;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (plan_streaming_budget(reader, s, workload_of(r, mid), 0).ok()) lo = mid; else hi = mid - 1;
  }
  return lo;
}

// The smallest budget (to 1 MiB) that plans the request with the minimum expert slots.
uint64_t smallest_budget(const ContainerReader& reader, StreamingOptions s, const Request& r) {
  uint64_t lo = 1 << 20, hi = uint64_t{1} << 50;
  while (hi - lo > (1 << 20)) {
    s.ram_budget = lo + (hi - lo) / 2;
    if (plan_streaming_budget(reader, s, workload_of(r, r.context), 0).ok()) hi = s.ram_budget; else lo = s.ram_budget;
  }
  return hi;
}

int run_plan(int argc, char** argv) {
  ArgParser args("plan", "What a run would hold: KV cache and scratch for the requested context, resident weights, "
                         "expert slots under --ram-budget and the longest context that fits. Loads nothing.");
  std::string model_path, kv = "f32";
  Request r;
  args.positional("MODEL.mst", &model_path, "the model container");
  args.option("--context", &r.context, "N", "tokens per sequence, prompt and output (default 4096)", 1, int64_t{1} << 24);
  args.option("--parallel", &r.parallel, "N", "sequences at once (default 1)", 1, 4096);
  args.option("--prefill-chunk", &r.prefill_chunk, "N", "prompt tokens per step (default 256)", 1, 1 << 20);
  args.option("--kv-cache", &kv, "f32|bf16", "KV cache precision (default f32)");
  StreamingFlags streaming;
  streaming.add_to(args);
  KernelFlags kernel_flags;
  kernel_flags.add_to(args);
  if (!args.parse(argc, argv)) return args.exit_code();
  if (Status s = kernel_flags.apply(); !s.ok()) return usage_error("plan", s);
  if (Status s = streaming.validate(args); !s.ok()) return usage_error("plan", s);
  auto precision = parse_kv_cache_precision(kv);
  if (!precision.ok()) return usage_error("plan", precision.status());
  r.precision = *precision;
  auto reader = ContainerReader::open(model_path);
  if (!reader.ok()) return report_error(reader.status());
  const ModelConfig& c = (*reader)->config();
  if (c.max_position_embeddings > 0 && r.context > c.max_position_embeddings) {
    return usage_error("plan", "--context " + std::to_string(r.context) + " is beyond the model's " +
                                   std::to_string(c.max_position_embeddings) + " positions");
  }

  const int64_t threads = kernels::kernel_threads();
  const uint64_t kv_bytes = kv_cache_bytes(c, r.context * r.parallel, r.precision);
  const uint64_t per_token = kv_cache_bytes(c, 1, r.precision);
  const int64_t step_rows = r.prefill_chunk + r.parallel;
  const uint64_t scratch = forward_scratch_bytes(c, step_rows, threads);
  const uint64_t logits = static_cast<uint64_t>(r.parallel) * c.vocab_size * 4;
  std::printf("model %s: %lld layers, hidden %lld, %lld heads, KV %lld + %lld per token and layer, %s file\n",
              model_path.c_str(), static_cast<long long>(c.num_hidden_layers), static_cast<long long>(c.hidden_size),
              static_cast<long long>(c.num_attention_heads), static_cast<long long>(c.kv_lora_rank),
              static_cast<long long>(c.qk_rope_head_dim), format_bytes((*reader)->file().size()).c_str());
  std::printf("KV cache (%s): %lld sequence(s) x %lld tokens x %s per token = %s\n", kv.c_str(),
              static_cast<long long>(r.parallel), static_cast<long long>(r.context), format_bytes(per_token).c_str(),
              format_bytes(kv_bytes).c_str());
  std::printf("forward scratch: %s for steps of %lld rows (prefill chunk %lld + %lld decode rows) on %lld thread(s); "
              "the same at any context\n",
              format_bytes(scratch).c_str(), static_cast<long long>(step_rows), static_cast<long long>(r.prefill_chunk),
              static_cast<long long>(r.parallel), static_cast<long long>(threads));
  std::printf("logits: %lld row(s) x %lld = %s\n", static_cast<long long>(r.parallel),
              static_cast<long long>(c.vocab_size), format_bytes(logits).c_str());

  StreamingOptions s;
  if (streaming.enabled()) {
    auto o = streaming.to_options();
    if (!o.ok()) return usage_error("plan", o.status());
    s = *o;
  }
  const int64_t most = c.max_position_embeddings > 0 ? c.max_position_embeddings : int64_t{1} << 24;
  if (!streaming.enabled()) {
    std::printf("all experts in RAM: about %s (the file, mapped) + KV + scratch + logits = %s\n",
                format_bytes((*reader)->file().size()).c_str(),
                format_bytes((*reader)->file().size() + kv_bytes + scratch + logits).c_str());
    std::printf("streaming experts instead: --ram-budget %s runs this context with the fewest expert slots\n",
                format_bytes(smallest_budget(**reader, s, r)).c_str());
    return 0;
  }
  auto plan = plan_streaming_budget(**reader, s, workload_of(r, r.context), 0);
  const int64_t longest = longest_context(**reader, s, r, most);
  if (!plan.ok()) {
    std::printf("refused: %s\n", plan.status().message().c_str());
  } else {
    std::printf("%s\n", plan->describe().c_str());
  }
  if (longest > 0) {
    std::printf("longest context under %s: %lld tokens per sequence (%lld sequence(s), %s KV, fewest expert slots)\n",
                streaming.ram_budget.c_str(), static_cast<long long>(longest), static_cast<long long>(r.parallel),
                kv.c_str());
  } else {
    std::printf("no context fits under %s with %lld sequence(s); --ram-budget %s runs --context %lld\n",
                streaming.ram_budget.c_str(), static_cast<long long>(r.parallel),
                format_bytes(smallest_budget(**reader, s, r)).c_str(), static_cast<long long>(r.context));
  }
  return plan.ok() ? 0 : 1;
}

MOESTREAM_REGISTER_COMMAND("plan", "the memory a run would hold: KV and scratch for a context, expert slots under a budget",
                           run_plan);

}  // namespace
}  // namespace moestream::cli
