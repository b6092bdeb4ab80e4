// Streaming mode for `run` and `logits`: the --ram-budget family of flags, the budget plan,
// the expert cache + streaming provider built from them, and the report printed at the end.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "arg_parser.h"
#include "format/container_reader.h"
#include "offload/expert_cache.h"
#include "offload/ram_budget.h"
#include "runtime/streaming_expert_provider.h"

namespace moestream::cli {

struct StreamingFlags {
  std::string ram_budget;  // empty: all experts stay in the mmapped container
  std::string cache_policy = "lru";
  double lfu_half_life = 256;
  int64_t prefetch_margin = 2;  // < 0: no pre-gating
  std::string pin_profile;
  std::string verify_blobs = "on";
  std::string request_size = "64M";
  int64_t queue_depth = kDefaultQueueDepth;
  std::string io_backend = "auto";
  // Not a streaming flag: how much of the file is checked against its checksums before the
  // first answer (off, fast = resident tensors at load + each expert on first use or read,
  // full = every byte at load).
  std::string verify_on_load = "fast";

  void add_to(ArgParser& args);
  bool enabled() const { return !ram_budget.empty(); }
  // After parsing: every value in range, --ram-budget not empty when given, no streaming flag
  // without --ram-budget (they would be ignored). A usage error (exit code 2) when not OK.
  // Warns on stderr when the budget is above the machine's RAM.
  Status validate(const ArgParser& args) const;
};

struct StreamingSession {
  RamBudgetPlan plan;
  std::unique_ptr<ExpertCache> cache;
  std::unique_ptr<StreamingExpertProvider> provider;
};

// Plans the budget for a run of up to `max_context` tokens (prints the split and the I/O
// path to stderr) and builds the cache and provider.
Result<std::unique_ptr<StreamingSession>> open_streaming(const ContainerReader& reader, const StreamingFlags& flags,
                                                         int64_t max_context, bool bf16_kv);

// The expert-cache report: per-layer hits/misses/prefetch/bytes/stall, totals, prefetch
// recall and waste, loader counters, peak RSS against the budget.
std::string streaming_report(const StreamingSession& session);

}  // namespace moestream::cli
