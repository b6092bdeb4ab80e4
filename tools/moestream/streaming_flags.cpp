#include "streaming_flags.h"

#include <cstdio>


namespace moestream::cli {

void StreamingFlags::add_to(ArgParser& args) {
  args.option("--ram-budget", &ram_budget, "SIZE",
              "stream routed experts from the file, keeping the whole process under SIZE (e.g. 2G)");
  args.option("--cache-policy", &cache_policy, "lru|lfu", "expert eviction policy (default lru)");
  args.option("--lfu-half-life", &lfu_half_life, "TOKENS",
              "tokens after which LFU counts halve (default 32, as in cachesim)");
  args.option("--prefetch-margin", &prefetch_margin, "N",
              "pre-gate the next layer and prefetch its top-k + N experts (default 2; -1 = off)");
  args.option("--pin-profile", &pin_profile, "FILE", "hot set of 'LAYER EXPERT' lines kept resident for good");
  args.option("--verify-blobs", &verify_blobs, "on|off", "check each expert's xxh3 as it is read (default on)");
  args.option("--request-size", &request_size, "SIZE", "I/O request size (default 64M: whole blobs)");
  args.option("--queue-depth", &queue_depth, "N", "I/O requests in flight (default 8)");
  args.option("--io-backend", &io_backend, "auto|pread", "auto = io_uring + O_DIRECT when available");
}

Result<StreamingOptions> StreamingFlags::to_options() const {
  StreamingOptions options;
  auto budget = parse_byte_size(ram_budget);
  if (!budget) return invalid_argument("--ram-budget: cannot parse '" + ram_budget + "' (e.g. 2G, 512M)");
  options.ram_budget = *budget;
  auto request = parse_byte_size(request_size);
  if (!request || *request == 0 || *request % 4096 != 0 || *request > (1u << 30)) {
    return invalid_argument("--request-size must be a multiple of 4K up to 1G, got '" + request_size + "'");
  }
  options.request_size = static_cast<uint32_t>(*request);
  if (verify_blobs != "on" && verify_blobs != "off") return invalid_argument("--verify-blobs must be on or off");
  options.verify_blobs = verify_blobs == "on";
  if (io_backend != "auto" && io_backend != "pread") return invalid_argument("--io-backend must be auto or pread");
  options.force_pread = io_backend == "pread";
  if (queue_depth < 1 || queue_depth > 4096) return invalid_argument("--queue-depth must be 1..4096");
  options.queue_depth = static_cast<unsigned>(queue_depth);
  options.policy.kind = cache_policy;
  options.policy.lfu_half_life_tokens = lfu_half_life;
  options.prefetch_margin = prefetch_margin;
  options.pin_profile = pin_profile;
  return options;
}

void log_to_stderr(std::string_view line) { std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data()); }

}  // namespace moestream::cli
