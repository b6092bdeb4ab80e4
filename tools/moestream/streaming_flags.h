// Streaming mode: the --ram-budget family of flags, parsed into the engine's StreamingOptions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "arg_parser.h"
#include "format/container_reader.h"
#include "runtime/engine/streaming_session.h"

namespace moestream::cli {

struct StreamingFlags {
  std::string ram_budget;  // empty: all experts stay in the mmapped container
  std::string cache_policy = "lru";
  double lfu_half_life = 32;  // tokens
  int64_t prefetch_margin = 2;  // < 0: no pre-gating
  int64_t prefetch_lookahead = kPrefetchLookahead;
  double prefetch_min_precision = kPrefetchMinPrecision;
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
  Result<StreamingOptions> to_options() const;  // after validate(): the engine's options
};

// Prints one line to stderr (the plan and notes the runtime logs).
void log_to_stderr(std::string_view line);

}  // namespace moestream::cli
