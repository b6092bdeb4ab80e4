// The flags of the commands that run requests through the engine (batch, and later serve and
// chat): streaming (--ram-budget ...), threads, KV precision, context, parallel sequences and
// the prefix cache, turned into EngineOptions.
#pragma once

#include <cstdint>
#include <string>

#include "arg_parser.h"
#include "kernel_flags.h"
#include "platform/status.h"
#include "runtime/engine/engine_options.h"
#include "streaming_flags.h"

namespace moestream::cli {

// "f32" or "bf16" for --kv-cache.
Result<KvCachePrecision> parse_kv_cache_precision(const std::string& text);

// --speculative mtp|off: registers the flag; parse_speculative says whether it is on.
void add_speculative_flag(ArgParser& args, std::string* value);
Result<bool> parse_speculative(const std::string& text);

// The engine for one sequence whose prompt of `prompt_tokens` runs in one step (run, logits,
// profile): streaming from `streaming` when it is on, `max_tokens` more tokens of context,
// logits of every prompt position when `all_logits`, no prefix cache, no tokenizer (callers
// that want one turn it on).
Result<EngineOptions> single_sequence_options(const StreamingFlags& streaming, const KernelFlags& kernels,
                                              KvCachePrecision precision, int64_t prompt_tokens,
                                              int64_t max_tokens, bool all_logits);

struct EngineFlags {
  StreamingFlags streaming;
  KernelFlags kernels;
  std::string kv_cache = "f32";
  int64_t max_context = 4096;
  int64_t parallel = 16;
  int64_t prefill_chunk = 256;
  std::string prefix_cache_dir;
  std::string prefix_cache_ram = "256M";
  std::string speculative = "off";

  void add_to(ArgParser& args);
  // Validates every value (naming the flag; a usage error) and builds the engine's options.
  Result<EngineOptions> to_options(const ArgParser& args) const;
};

}  // namespace moestream::cli
