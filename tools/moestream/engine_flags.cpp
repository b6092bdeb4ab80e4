#include "engine_flags.h"

#include <algorithm>


namespace moestream::cli {

Result<KvCachePrecision> parse_kv_cache_precision(const std::string& text) {
  if (text == "f32") return KvCachePrecision::kF32;
  if (text == "bf16") return KvCachePrecision::kBF16;
  return invalid_argument("--kv-cache must be f32 or bf16, got '" + text + "'");
}

Result<EngineOptions> single_sequence_options(const StreamingFlags& streaming, const KernelFlags& kernels,
                                              KvCachePrecision precision, int64_t prompt_tokens,
                                              int64_t max_tokens, bool all_logits) {
  EngineOptions options;
  if (streaming.enabled()) {
    MOESTREAM_ASSIGN_OR_RETURN(StreamingOptions s, streaming.to_options());
    options.streaming = std::move(s);
  }
  options.threads = kernels.threads;
  options.kv_precision = precision;
  options.max_context = prompt_tokens + std::max<int64_t>(max_tokens, 1);
  options.max_sequences = 1;
  options.prefill_chunk = std::min<int64_t>(std::max<int64_t>(prompt_tokens, 1), options.prefill_chunk);
  if (all_logits) options.plan_logit_rows = options.prefill_chunk;  // written out chunk by chunk
  options.prefix_cache.ram_bytes = 0;
  options.load_tokenizer = false;
  options.verify_on_load = streaming.verify_on_load;
  options.log = log_to_stderr;
  return options;
}

void EngineFlags::add_to(ArgParser& args) {
  args.option("--max-context", &max_context, "N", "tokens per sequence, prompt and output (default 4096)");
  args.option("--parallel", &parallel, "N", "sequences batched in one step at most (default 16)");
  args.option("--prefill-chunk", &prefill_chunk, "N", "prompt tokens computed per step (default 256)");
  args.option("--kv-cache", &kv_cache, "f32|bf16", "KV cache precision (default f32)");
  args.option("--prefix-cache-dir", &prefix_cache_dir, "DIR",
              "keep prompt-prefix KV blocks on disk here too, found again after a restart");
  args.option("--prefix-cache-ram", &prefix_cache_ram, "SIZE", "RAM for prompt-prefix KV blocks (default 256M; 0 = none)");
  add_speculative_flag(args, &speculative);
  streaming.add_to(args);
  kernels.add_to(args);
}

void add_speculative_flag(ArgParser& args, std::string* value) {
  args.option("--speculative", value, "mtp|off",
              "each decode step verifies the MTP layer's draft of the next token: the same output (greedy) or "
              "distribution (sampling), up to two tokens a step (default off)");
}

Result<bool> parse_speculative(const std::string& text) {
  if (text == "mtp") return true;
  if (text == "off") return false;
  return invalid_argument("--speculative takes mtp or off, not '" + text + "'");
}

Result<EngineOptions> EngineFlags::to_options(const ArgParser& args) const {
  MOESTREAM_TRY(streaming.validate(args));
  EngineOptions o;
  o.verify_on_load = streaming.verify_on_load;
  if (streaming.enabled()) {
    MOESTREAM_ASSIGN_OR_RETURN(StreamingOptions s, streaming.to_options());
    o.streaming = std::move(s);
  }
  if (kernels.threads < 0 || kernels.threads > 1024) return invalid_argument("--threads must be 0..1024");
  o.threads = kernels.threads;
  MOESTREAM_ASSIGN_OR_RETURN(o.kv_precision, parse_kv_cache_precision(kv_cache));
  if (max_context < 2 || max_context > (1 << 24)) return invalid_argument("--max-context must be 2..16777216");
  o.max_context = max_context;
  if (parallel < 1 || parallel > 4096) return invalid_argument("--parallel must be 1..4096");
  o.max_sequences = parallel;
  if (prefill_chunk < 1 || prefill_chunk > (1 << 20)) return invalid_argument("--prefill-chunk must be 1..1048576");
  o.prefill_chunk = prefill_chunk;
  const auto ram = parse_byte_size(prefix_cache_ram);
  if (!ram) return invalid_argument("--prefix-cache-ram: cannot parse '" + prefix_cache_ram + "' (e.g. 256M, 0)");
  o.prefix_cache.ram_bytes = *ram;
  o.prefix_cache.dir = prefix_cache_dir;
  MOESTREAM_ASSIGN_OR_RETURN(o.speculative_mtp, parse_speculative(speculative));
  o.log = log_to_stderr;
  return o;
}

}  // namespace moestream::cli
