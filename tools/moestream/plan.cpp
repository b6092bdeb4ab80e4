// `moestream plan MODEL.mst [--context N] [--parallel N] [--ram-budget SIZE] ...`: what a run
// of this model would hold, without loading it: the KV cache for the requested context, the
// forward pass's scratch (which does not grow with the context), the logits, the resident
// weights and, under a budget, the expert slots left and the longest context that fits; with
// no budget, the smallest budget that runs the requested context. With --project, a decode
// speed projected for a machine described by flags (plan_projection.h); MODEL.mst may then be
// `deepseek-v3`, the built-in 671B shape.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "engine_flags.h"
#include "format/synthetic_model.h"
#include "kernel_flags.h"
#include "kernels/kernel_threads.h"
#include "plan_projection.h"
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
int64_t longest_context(const ModelFootprint& model, const StreamingOptions& s, const Request& r, int64_t most) {
  int64_t lo = 0, hi = most;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (plan_streaming_budget(model, s, workload_of(r, mid), 0).ok()) lo = mid; else hi = mid - 1;
  }
  return lo;
}

// The smallest budget (to 1 MiB) that plans the request with the minimum expert slots.
uint64_t smallest_budget(const ModelFootprint& model, StreamingOptions s, const Request& r) {
  uint64_t lo = 1 << 20, hi = uint64_t{1} << 50;
  while (hi - lo > (1 << 20)) {
    s.ram_budget = lo + (hi - lo) / 2;
    if (plan_streaming_budget(model, s, workload_of(r, r.context), 0).ok()) hi = s.ram_budget; else lo = s.ram_budget;
  }
  return hi;
}

struct ProjectFlags {
  bool on = false;
  std::string ram;
  double nvme_gbs = 0, memory_gbs = 0, hit_rate = -1;
  int64_t cores = 0;
  std::string traces;
};

constexpr const char* kBuiltInShape = "deepseek-v3";

// The trace files named by a comma list; a directory stands for its .csv and .mstrace files.
std::vector<std::string> trace_files(const std::string& list) {
  std::vector<std::string> files;
  for (const std::string& item : split_list(list)) {
    std::error_code ec;
    if (std::filesystem::is_directory(item, ec)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(item, ec)) {
        const std::string ext = entry.path().extension().string();
        if (entry.is_regular_file() && (ext == ".csv" || ext == ".mstrace")) files.push_back(entry.path().string());
      }
    } else {
      files.push_back(item);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

int run_projection(const std::string& model_path, const Request& r, const StreamingFlags& streaming,
                   const ProjectFlags& f) {
  const auto ram = parse_byte_size(f.ram);
  if (!ram || f.nvme_gbs <= 0 || f.memory_gbs <= 0) {
    return usage_error("plan", "--project needs --ram SIZE, --nvme-gbs and --memory-gbs");
  }
  if (f.hit_rate < 0 && f.traces.empty()) {
    return usage_error("plan", "--project needs a routing trace (--trace FILES|DIR) or --hit-rate F");
  }
  const int64_t threads = f.cores > 0 ? f.cores : kernels::kernel_threads();
  StreamingWorkload workload = workload_of(r, r.context);
  workload.threads = threads;
  StreamingOptions s;
  if (auto o = streaming.to_options(); o.ok()) s = *o;
  s.ram_budget = *ram;
  // The model: the built-in shape from its config alone, or a container.
  ModelFootprint model;
  if (model_path == kBuiltInShape) {
    SynthOptions synth;
    synth.preset = "full";
    auto config = synth_preset_config(synth);
    if (!config.ok()) return report_error(config.status());
    const ModelConfig& c = *config;
    model.config = c;
    model.touched = touched_weights(c);
    model.slot_bytes = align_up(routed_expert_bytes(c), kPageSize);
    model.total_experts = (c.main_moe_layers() + c.num_nextn_predict_layers) * c.n_routed_experts;
    std::printf("DeepSeek-V3 671B (built-in shape): %lld layers (%lld MoE), %lld routed experts of %s, %s of non-expert "
                "weights read every step\n",
                static_cast<long long>(c.num_hidden_layers), static_cast<long long>(c.main_moe_layers()),
                static_cast<long long>(c.n_routed_experts), format_bytes(routed_expert_bytes(c)).c_str(),
                format_bytes(model.touched.every_step).c_str());
  } else {
    auto reader = ContainerReader::open(model_path);
    if (!reader.ok()) return report_error(reader.status());
    model = footprint_of(**reader);
  }
  const ModelConfig& c = model.config;
  DecodeProjection p;
  p.moe_layers = c.main_moe_layers();
  p.top_k = c.num_experts_per_tok;
  p.experts_per_layer = c.n_routed_experts;
  p.expert_bytes = routed_expert_bytes(c);
  p.every_step_bytes = model.touched.every_step;
  p.head_bytes = model.touched.head;
  const auto plan = plan_streaming_budget(model, s, workload, 0);
  if (!plan.ok()) {
    std::printf("refused: %s\n", plan.status().message().c_str());
    return 1;
  }
  p.plan = *plan;
  p.cached_fraction = std::min(1.0, static_cast<double>(p.plan.slots) / static_cast<double>(p.moe_layers * p.experts_per_layer));
  if (f.hit_rate >= 0) {
    p.hit_rate = f.hit_rate;
    p.hit_source = "given with --hit-rate";
  } else {
    auto hit = trace_hit_rate(trace_files(f.traces), p.cached_fraction, &p.hit_source);
    if (!hit.ok()) return report_error(hit.status());
    p.hit_rate = *hit;
  }
  MachineModel m;
  m.nvme_bytes_per_s = f.nvme_gbs * 1e9;
  m.memory_bytes_per_s = f.memory_gbs * 1e9;
  std::printf("machine: %s RAM, NVMe %.1f GB/s, memory %.1f GB/s, %lld cores\n", format_bytes(*ram).c_str(), f.nvme_gbs,
              f.memory_gbs, static_cast<long long>(threads));
  std::printf("%s", describe_projection(p, m).c_str());
  return 0;
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
  ProjectFlags project;
  args.flag("--project", &project.on,
            "project decode tok/s on a machine given by --ram, --nvme-gbs, --memory-gbs, --cores (MODEL.mst may be "
            "'deepseek-v3', the built-in 671B shape)");
  args.option("--ram", &project.ram, "SIZE", "with --project: the RAM the run may use (its --ram-budget)");
  args.option("--nvme-gbs", &project.nvme_gbs, "GB/s", "with --project: the NVMe's read bandwidth", 0, 1e4);
  args.option("--memory-gbs", &project.memory_gbs, "GB/s", "with --project: the memory bandwidth (a triad)", 0, 1e5);
  args.option("--cores", &project.cores, "N", "with --project: cores (threads) of the machine", 0, 4096);
  args.option("--trace", &project.traces, "FILE,DIR,..",
              "with --project: routing traces (CSV or .mstrace; a directory: all of them) for the hit rate");
  args.option("--hit-rate", &project.hit_rate, "F",
              "with --project: use this hit rate (0..1) instead: the share of the used experts not read from disk "
              "(a prefetched expert was read)",
              0, 1);
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
  if (project.on) return run_projection(model_path, r, streaming, project);
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
  const ModelFootprint model = footprint_of(**reader);  // once: the searches below plan many times
  const int64_t most = c.max_position_embeddings > 0 ? c.max_position_embeddings : int64_t{1} << 24;
  if (!streaming.enabled()) {
    std::printf("all experts in RAM: about %s (the file, mapped) + KV + scratch + logits = %s\n",
                format_bytes((*reader)->file().size()).c_str(),
                format_bytes((*reader)->file().size() + kv_bytes + scratch + logits).c_str());
    std::printf("streaming experts instead: --ram-budget %s runs this context with the fewest expert slots\n",
                format_bytes(smallest_budget(model, s, r)).c_str());
    return 0;
  }
  auto plan = plan_streaming_budget(model, s, workload_of(r, r.context), 0);
  const int64_t longest = longest_context(model, s, r, most);
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
                format_bytes(smallest_budget(model, s, r)).c_str(), static_cast<long long>(r.context));
  }
  return plan.ok() ? 0 : 1;
}

MOESTREAM_REGISTER_COMMAND("plan", "the memory a run would hold: KV and scratch for a context, expert slots under a budget",
                           run_plan);

}  // namespace
}  // namespace moestream::cli
