#include "streaming_flags.h"

#include <cstdio>

#include "offload/hot_set_profile.h"
#include "runtime/kv_cache.h"
#include "platform/memory_probe.h"
#include "platform/progress_bar.h"

namespace moestream::cli {

void StreamingFlags::add_to(ArgParser& args) {
  args.option("--ram-budget", &ram_budget, "SIZE",
              "stream routed experts from the file, keeping the whole process under SIZE (e.g. 2G)");
  args.option("--cache-policy", &cache_policy, "lru|lfu", "expert eviction policy (default lru)");
  args.option("--lfu-half-life", &lfu_half_life, "ACCESSES",
              "expert accesses (of one layer's cache) after which LFU counts halve (default 256)", 1e-3, 1e12);
  args.option("--prefetch-margin", &prefetch_margin, "N",
              "pre-gate the next layer and prefetch its top-k + N experts (default 2; -1 = off)", -1, 4096);
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
    for (const char* flag : {"--cache-policy", "--lfu-half-life", "--prefetch-margin", "--pin-profile",
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

namespace {

uint64_t resident_weight_bytes(const ContainerReader& reader) {
  uint64_t experts = 0;
  for (int64_t layer : reader.expert_layers()) {
    for (int64_t e = 0; e < reader.config().n_routed_experts; ++e) {
      auto b = reader.expert_blob(layer, e);
      if (b.ok()) experts += b->padded_size;
    }
  }
  const uint64_t size = reader.file().size();
  return size > experts ? size - experts : 0;
}

}  // namespace

Result<std::unique_ptr<StreamingSession>> open_streaming(const ContainerReader& reader, const StreamingFlags& flags,
                                                         int64_t max_context, bool bf16_kv) {
  auto budget = parse_byte_size(flags.ram_budget);
  if (!budget) return invalid_argument("--ram-budget: cannot parse '" + flags.ram_budget + "' (e.g. 2G, 512M)");
  auto request = parse_byte_size(flags.request_size);
  if (!request || *request == 0 || *request % 4096 != 0 || *request > (1u << 30)) {
    return invalid_argument("--request-size must be a multiple of 4K up to 1G, got '" + flags.request_size + "'");
  }
  if (flags.verify_blobs != "on" && flags.verify_blobs != "off") {
    return invalid_argument("--verify-blobs must be on or off");
  }
  if (flags.io_backend != "auto" && flags.io_backend != "pread") {
    return invalid_argument("--io-backend must be auto or pread");
  }
  if (flags.queue_depth < 1 || flags.queue_depth > 4096) return invalid_argument("--queue-depth must be 1..4096");
  const ModelConfig& c = reader.config();
  const std::vector<int64_t> layers = reader.expert_layers();
  const int64_t total_experts = static_cast<int64_t>(layers.size()) * c.n_routed_experts;

  ExpertCacheOptions options;
  options.policy.kind = flags.cache_policy;
  options.policy.lfu_half_life = flags.lfu_half_life;
  options.loader.request_size = static_cast<uint32_t>(*request);
  options.loader.queue_depth = static_cast<unsigned>(flags.queue_depth);
  options.loader.verify_checksums = flags.verify_blobs == "on";
  options.loader.force_pread = flags.io_backend == "pread";
  if (!flags.pin_profile.empty()) {
    MOESTREAM_ASSIGN_OR_RETURN(options.hot_set, read_hot_set_profile(flags.pin_profile));
  }

  RamBudgetInputs in;
  in.budget = *budget;
  in.resident_weight_bytes = resident_weight_bytes(reader);
  const int64_t context = std::max<int64_t>(1, max_context);
  in.kv_cache_bytes = kv_cache_bytes(c, context, bf16_kv ? KvCachePrecision::kBF16 : KvCachePrecision::kF32);
  const uint64_t staging = ExpertCache::staging_bytes(reader);
  in.io_buffer_bytes = staging ? align_up(staging, kPageSize) * options.loader.staging_buffers : 0;
  // Logits for every prompt position, the residual stream and its scratch, expert outputs.
  const uint64_t activations = static_cast<uint64_t>(context) *
                               static_cast<uint64_t>(c.vocab_size + c.hidden_size * (24 + c.num_experts_per_tok)) * 4;
  in.overhead_bytes = default_overhead_bytes(current_rss_bytes(), activations);
  in.slot_bytes = ExpertCache::slot_bytes(reader);
  in.min_slots = c.num_experts_per_tok + std::max<int64_t>(0, flags.prefetch_margin) +
                 static_cast<int64_t>(options.hot_set.size());
  in.total_experts = total_experts;
  MOESTREAM_ASSIGN_OR_RETURN(RamBudgetPlan plan, plan_ram_budget(in));
  options.slots = plan.slots;

  auto session = std::make_unique<StreamingSession>();
  session->plan = plan;
  MOESTREAM_ASSIGN_OR_RETURN(session->cache, ExpertCache::create(reader, options));
  session->provider = std::make_unique<StreamingExpertProvider>(reader, *session->cache);
  const ExpertLoader& loader = session->cache->loader();
  std::fprintf(stderr, "%s\n", plan.describe().c_str());
  std::fprintf(stderr, "expert cache: %s policy, %lld slots%s, hot set %lld; loader: %s, %s requests\n",
               session->cache->policy_name().c_str(), static_cast<long long>(plan.slots),
               session->cache->huge_pages() ? " (huge pages)" : "",
               static_cast<long long>(session->cache->hot_set_size()), loader.backend_description().c_str(),
               format_bytes(options.loader.request_size).c_str());
  if (!loader.fallback_reason().empty()) {
    std::fprintf(stderr, "note: not using io_uring + O_DIRECT: %s\n", loader.fallback_reason().c_str());
  }
  return session;
}

std::string streaming_report(const StreamingSession& session) {
  std::string out = format_cache_report(session.cache->stats(), "expert cache report (" +
                                                                    session.cache->policy_name() + ", " +
                                                                    std::to_string(session.cache->slot_count()) +
                                                                    " slots)");
  const PrefetchRecall r = session.provider->recall();
  const std::vector<LayerCacheStats> stats = session.cache->stats();
  LayerCacheStats total;
  for (const LayerCacheStats& s : stats) total += s;
  char line[512];
  std::snprintf(line, sizeof(line),
                "prefetch: recall %.1f%% (%llu of %llu needed experts predicted, %llu named), "
                "%llu prefetched unused and evicted (%s wasted)\n",
                100.0 * r.recall(), static_cast<unsigned long long>(r.correct),
                static_cast<unsigned long long>(r.needed), static_cast<unsigned long long>(r.predicted),
                static_cast<unsigned long long>(total.wasted_prefetches), format_bytes(total.wasted_bytes).c_str());
  out += line;
  const LoaderCounters lc = session.cache->loader().counters();
  std::snprintf(line, sizeof(line), "loader: %llu blobs (%s read, %s delivered), %llu requests, %llu retries, %llu failed\n",
                static_cast<unsigned long long>(lc.blobs_loaded), format_bytes(lc.bytes_read).c_str(),
                format_bytes(lc.bytes_delivered).c_str(), static_cast<unsigned long long>(lc.requests),
                static_cast<unsigned long long>(lc.retries), static_cast<unsigned long long>(lc.blobs_failed));
  out += line;
  std::snprintf(line, sizeof(line), "peak RSS %s of the %s budget (%llu of %llu bytes)\n",
                format_bytes(peak_rss_bytes()).c_str(), format_bytes(session.plan.inputs.budget).c_str(),
                static_cast<unsigned long long>(peak_rss_bytes()),
                static_cast<unsigned long long>(session.plan.inputs.budget));
  out += line;
  return out;
}

}  // namespace moestream::cli
