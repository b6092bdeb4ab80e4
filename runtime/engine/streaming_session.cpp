#include "runtime/engine/streaming_session.h"

#include <algorithm>
#include <cstdio>

#include "kernels/kernel_threads.h"
#include "offload/hot_set_profile.h"
#include "platform/memory_probe.h"
#include "platform/progress_bar.h"
#include "runtime/engine/touched_weights.h"
#include "runtime/model.h"

namespace moestream {

ModelFootprint footprint_of(const ContainerReader& reader) {
  ModelFootprint m;
  m.config = reader.config();
  m.touched = touched_weights(reader);
  m.slot_bytes = ExpertCache::slot_bytes(reader);
  m.staging_bytes = ExpertCache::staging_bytes(reader);
  m.total_experts = static_cast<int64_t>(reader.expert_layers().size()) * m.config.n_routed_experts;
  return m;
}

Result<RamBudgetPlan> plan_streaming_budget(const ModelFootprint& model, const StreamingOptions& streaming,
                                            const StreamingWorkload& workload, int64_t hot_set_size) {
  const ModelConfig& c = model.config;
  RamBudgetInputs in;
  in.budget = streaming.ram_budget;
  const int64_t context = std::max<int64_t>(1, workload.kv_tokens);
  in.resident_weight_bytes = model.touched.bytes(workload.mtp);
  in.kv_cache_bytes = kv_cache_bytes(c, context, workload.kv_precision);
  in.io_buffer_bytes = model.staging_bytes ? align_up(model.staging_bytes, kPageSize) * ExpertLoaderOptions{}.staging_buffers : 0;
  // The forward pass's scratch for the largest step (it does not grow with the context) and
  // the logits of the rows that have them.
  const int64_t threads = workload.threads > 0 ? workload.threads : kernels::kernel_threads();
  const uint64_t activations =
      forward_scratch_bytes(c, workload.step_rows, threads) +
      static_cast<uint64_t>(std::max<int64_t>(1, workload.logit_rows)) * static_cast<uint64_t>(c.vocab_size) * 4;
  in.overhead_bytes = default_overhead_bytes(current_rss_bytes(), activations);
  in.slot_bytes = model.slot_bytes;
  in.min_slots = c.num_experts_per_tok + std::max<int64_t>(0, streaming.prefetch_margin) + hot_set_size;
  in.total_experts = model.total_experts;
  return plan_ram_budget(in);
}

Result<RamBudgetPlan> plan_streaming_budget(const ContainerReader& reader, const StreamingOptions& streaming,
                                            const StreamingWorkload& workload, int64_t hot_set_size) {
  return plan_streaming_budget(footprint_of(reader), streaming, workload, hot_set_size);
}

Result<std::unique_ptr<StreamingSession>> open_streaming(const ContainerReader& reader,
                                                         const StreamingOptions& streaming,
                                                         const StreamingWorkload& workload,
                                                         const std::function<void(std::string_view)>& log) {

  ExpertCacheOptions options;
  options.policy = streaming.policy;
  options.loader.request_size = streaming.request_size;
  options.loader.queue_depth = streaming.queue_depth;
  options.loader.verify_checksums = streaming.verify_blobs;
  options.loader.force_pread = streaming.force_pread;
  if (!streaming.pin_profile.empty()) {
    MOESTREAM_ASSIGN_OR_RETURN(options.hot_set, read_hot_set_profile(streaming.pin_profile));
  }

  MOESTREAM_ASSIGN_OR_RETURN(RamBudgetPlan plan, plan_streaming_budget(reader, streaming, workload,
                                                                   static_cast<int64_t>(options.hot_set.size())));
  options.slots = plan.slots;

  auto session = std::make_unique<StreamingSession>();
  session->plan = plan;
  MOESTREAM_ASSIGN_OR_RETURN(session->cache, ExpertCache::create(reader, options));
  session->provider = std::make_unique<StreamingExpertProvider>(reader, *session->cache);
  session->provider->set_prefetch_min_precision(streaming.prefetch_min_precision);
  const ExpertLoader& loader = session->cache->loader();
  if (!log) return session;
  log(plan.describe());
  const TouchedWeights touched = touched_weights(reader);
  char counted[512];
  std::snprintf(counted, sizeof(counted),
                "resident weights counted: %s read every step + %s for embedding rows (of a %s table; read a row at a time)%s",
                format_bytes(touched.every_step).c_str(),
                format_bytes(touched.bytes(false) - touched.every_step).c_str(),
                format_bytes(touched.embedding).c_str(),
                touched.mtp == 0 ? ""
                : workload.mtp ? (" + the MTP layer " + format_bytes(touched.mtp)).c_str()
                               : (" (the MTP layer's " + format_bytes(touched.mtp) + " is not: it runs only for drafts)").c_str());
  log(counted);
  char line[512];
  std::snprintf(line, sizeof(line), "expert cache: %s policy, %lld slots%s, hot set %lld; loader: %s, %s requests",
               session->cache->policy_name().c_str(), static_cast<long long>(plan.slots),
               session->cache->huge_pages() ? " (huge pages)" : "",
               static_cast<long long>(session->cache->hot_set_size()), loader.backend_description().c_str(),
               format_bytes(options.loader.request_size).c_str());
  log(line);
  if (!loader.fallback_reason().empty()) log("note: not using io_uring + O_DIRECT: " + loader.fallback_reason());
  return session;
}

std::string streaming_report(const StreamingSession& session) {
  const std::vector<LayerCacheStats> stats = session.cache->stats();
  std::string out = format_cache_report(stats, "expert cache report (" + session.cache->policy_name() + ", " +
                                                   std::to_string(session.cache->slot_count()) + " slots)");
  const PrefetchRecall r = session.provider->recall();
  const LayerCacheStats total = total_of(stats);
  char line[512];
  std::snprintf(line, sizeof(line),
                "prefetch: recall %.1f%% (%llu of %llu needed experts predicted, %llu named), precision %.1f%%, "
                "read for %llu of %llu layer steps (the rest only scored: precision under %.0f%%; %llu cut to a quarter of the slots), "
                "%llu prefetched unused and evicted (%s wasted)\n",
                100.0 * r.recall(), static_cast<unsigned long long>(r.correct),
                static_cast<unsigned long long>(r.needed), static_cast<unsigned long long>(r.predicted),
                100.0 * r.precision(), static_cast<unsigned long long>(r.hints - r.gated),
                static_cast<unsigned long long>(r.hints), 100.0 * session.provider->prefetch_min_precision(),
                static_cast<unsigned long long>(r.truncated),
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

}  // namespace moestream
