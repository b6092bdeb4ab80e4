#include "streaming_flags.h"

#include <cstdio>

#include "platform/memory_probe.h"
#include "platform/progress_bar.h"


namespace moestream::cli {

void StreamingFlags::add_to(ArgParser& args) {
  args.option("--ram-budget", &ram_budget, "SIZE",
              "stream routed experts from the file, keeping the whole process under SIZE (e.g. 2G)");
  args.option("--cache-policy", &cache_policy, "lru|lfu", "expert eviction policy (default lru)");
  args.option("--lfu-half-life", &lfu_half_life, "TOKENS",
              "tokens after which LFU counts halve (default 32, as in cachesim)", 1e-3, 1e12);
  args.option("--prefetch-margin", &prefetch_margin, "N",
              "pre-gate the next layer and prefetch its top-k + N experts (default 2; -1 = off)", -1, 4096);
  args.option("--prefetch-lookahead", &prefetch_lookahead, "N",
              "pre-gate a MoE layer from up to N layers before it (after each of their attentions, and from the "
              "embeddings when they are N layers before it; each closer guess cancels the earlier one's reads it does "
              "not name), so dense layers in between overlap its reads (default 3)",
              1, 1024);
  args.option("--prefetch-min-precision", &prefetch_min_precision, "F",
              "read pre-gated experts only while that share of them turned out used (recent layer steps; default "
              "0.3, 0 = always)", 0, 1);
  args.option("--pin-profile", &pin_profile, "FILE", "hot set of 'LAYER EXPERT' lines kept resident for good");
  args.option("--verify-blobs", &verify_blobs, "on|off", "check each expert's xxh3 as it is read (default on)");
  args.option("--request-size", &request_size, "SIZE", "I/O request size (default 64M: whole blobs)");
  args.option("--queue-depth", &queue_depth, "N", "I/O requests in flight (default 8)", 1, 4096);
  args.option("--io-backend", &io_backend, "auto|pread", "auto = io_uring + O_DIRECT when available");
  args.option("--verify-on-load", &verify_on_load, "off|fast|full",
              "check the file's checksums before they can change an answer: fast (default) = every resident "
              "tensor at load and each expert when first used or read; full = every byte at load; off");
}

Status StreamingFlags::validate(const ArgParser& args) const {
  if (args.given("--ram-budget")) {
    auto budget = parse_byte_size(ram_budget);
    if (!budget || *budget == 0 || *budget > (uint64_t{1} << 50)) {
      return invalid_argument("--ram-budget takes a size from 1 to 1PiB in binary units (e.g. 2G = 2 GiB, 512M), not '" +
                              ram_budget + "'");
    }
    if (const uint64_t ram = total_ram_bytes(); ram > 0 && *budget > ram) {
      std::fprintf(stderr, "warning: --ram-budget %s is more than this machine's RAM (%s); the budget will not "
                           "protect it from swapping\n",
                   format_bytes(*budget).c_str(), format_bytes(ram).c_str());
    }
  } else {
    for (const char* flag : {"--cache-policy", "--lfu-half-life", "--prefetch-margin", "--prefetch-lookahead", "--prefetch-min-precision", "--pin-profile",
                             "--verify-blobs", "--request-size", "--queue-depth", "--io-backend"}) {
      if (args.given(flag)) {
        return invalid_argument(std::string(flag) + " only applies when experts are streamed; add --ram-budget SIZE");
      }
    }
  }
  if (cache_policy != "lru" && cache_policy != "lfu") {
    return invalid_argument("--cache-policy takes lru or lfu, not '" + cache_policy + "'");
  }
  auto request = parse_byte_size(request_size);
  if (!request || *request == 0 || *request % 4096 != 0 || *request > (1u << 30)) {
    return invalid_argument("--request-size takes a multiple of 4K up to 1G, not '" + request_size + "'");
  }
  if (verify_blobs != "on" && verify_blobs != "off") {
    return invalid_argument("--verify-blobs takes on or off, not '" + verify_blobs + "'");
  }
  if (io_backend != "auto" && io_backend != "pread") {
    return invalid_argument("--io-backend takes auto or pread, not '" + io_backend + "'");
  }
  if (args.given("--pin-profile") && pin_profile.empty()) return invalid_argument("--pin-profile needs a FILE");
  if (verify_on_load != "off" && verify_on_load != "fast" && verify_on_load != "full") {
    return invalid_argument("--verify-on-load takes off, fast or full, not '" + verify_on_load + "'");
  }
  if (verify_on_load != "off" && verify_blobs == "off" && enabled()) {
    return invalid_argument("--verify-blobs off skips the checks --verify-on-load " + verify_on_load +
                            " promises for streamed experts; add --verify-on-load off too");
  }
  return ok_status();
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
  options.prefetch_lookahead = prefetch_lookahead;
  options.prefetch_min_precision = prefetch_min_precision;
  options.pin_profile = pin_profile;
  return options;
}

void log_to_stderr(std::string_view line) { std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data()); }

}  // namespace moestream::cli
