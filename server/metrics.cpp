#include "server/metrics.h"

#include <cstdio>

namespace moestream::server {

void Histogram::observe(double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

std::string Histogram::format(const std::string& name, const std::string& help) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out = "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cumulative = 0;
  char line[256];
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    std::snprintf(line, sizeof(line), "%s_bucket{le=\"%g\"} %llu\n", name.c_str(), bounds_[i],
                  static_cast<unsigned long long>(cumulative));
    out += line;
  }
  std::snprintf(line, sizeof(line), "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name.c_str(),
                static_cast<unsigned long long>(count_), name.c_str(), sum_, name.c_str(),
                static_cast<unsigned long long>(count_));
  return out + line;
}

namespace {

void metric(std::string* out, const char* name, const char* type, const char* help, double value) {
  char line[512];
  std::snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n%s %.9g\n", name, help, name, type, name, value);
  *out += line;
}

}  // namespace

std::string Metrics::format(const Engine* engine) const {
  std::string out;
  metric(&out, "moestream_requests_total", "counter", "requests received", static_cast<double>(requests.load()));
  metric(&out, "moestream_requests_failed_total", "counter", "requests that ended in an error",
         static_cast<double>(requests_failed.load()));
  metric(&out, "moestream_requests_rejected_total", "counter", "requests refused with 429 (queue full)",
         static_cast<double>(rejected_queue_full.load()));
  metric(&out, "moestream_prompt_tokens_total", "counter", "prompt tokens", static_cast<double>(prompt_tokens.load()));
  metric(&out, "moestream_prompt_cache_hit_tokens_total", "counter", "prompt tokens served from the prefix cache",
         static_cast<double>(prompt_cache_hit_tokens.load()));
  metric(&out, "moestream_generated_tokens_total", "counter", "generated tokens",
         static_cast<double>(generated_tokens.load()));
  out += time_to_first_token.format("moestream_time_to_first_token_seconds", "time from arrival to the first token");
  out += inter_token.format("moestream_inter_token_seconds", "time between two tokens of one stream");
  if (engine == nullptr) return out;
  const EngineStats s = engine->stats();
  metric(&out, "moestream_requests_running", "gauge", "sequences in the engine", static_cast<double>(s.active));
  metric(&out, "moestream_requests_waiting", "gauge", "requests queued for the engine", static_cast<double>(s.queued));
  metric(&out, "moestream_engine_steps_total", "counter", "batched forward steps", static_cast<double>(s.steps));
  metric(&out, "moestream_engine_forward_seconds_total", "counter", "time in the forward pass", s.forward_s);
  metric(&out, "moestream_engine_tokens_per_second", "gauge", "generated tokens per second of forward time",
         s.forward_s > 0 ? static_cast<double>(s.generated_tokens) / s.forward_s : 0.0);
  metric(&out, "moestream_prefix_cache_blocks", "gauge", "64-token KV blocks in RAM",
         static_cast<double>(s.prefix_cache.blocks_in_ram));
  metric(&out, "moestream_prefix_cache_bytes", "gauge", "bytes of KV blocks in RAM", static_cast<double>(s.prefix_cache.ram_bytes));
  metric(&out, "moestream_prefix_cache_hit_tokens_total", "counter", "tokens restored from the prefix cache",
         static_cast<double>(s.prefix_cache.hit_tokens));
  metric(&out, "moestream_expert_bytes_read_total", "counter", "expert bytes read from disk",
         static_cast<double>(s.expert_bytes_read));
  metric(&out, "moestream_expert_acquisitions_total", "counter", "experts acquired (per layer per step)",
         static_cast<double>(s.expert_acquisitions));
  const std::vector<LayerCacheStats> layers = engine->cache_stats();
  if (!layers.empty()) {
    out += "# HELP moestream_expert_cache_hits_total expert-cache hits per layer\n# TYPE moestream_expert_cache_hits_total counter\n";
    std::string misses = "# HELP moestream_expert_cache_misses_total expert-cache misses per layer\n# TYPE moestream_expert_cache_misses_total counter\n";
    std::string bytes = "# HELP moestream_expert_cache_bytes_read_total bytes read per layer\n# TYPE moestream_expert_cache_bytes_read_total counter\n";
    std::string stall = "# HELP moestream_expert_cache_stall_seconds_total time waiting for expert reads per layer\n# TYPE moestream_expert_cache_stall_seconds_total counter\n";
    char line[256];
    for (size_t l = 0; l < layers.size(); ++l) {
      if (layers[l].accesses() == 0 && layers[l].bytes_read == 0) continue;
      std::snprintf(line, sizeof(line), "moestream_expert_cache_hits_total{layer=\"%zu\"} %llu\n", l,
                    static_cast<unsigned long long>(layers[l].hits));
      out += line;
      std::snprintf(line, sizeof(line), "moestream_expert_cache_misses_total{layer=\"%zu\"} %llu\n", l,
                    static_cast<unsigned long long>(layers[l].misses));
      misses += line;
      std::snprintf(line, sizeof(line), "moestream_expert_cache_bytes_read_total{layer=\"%zu\"} %llu\n", l,
                    static_cast<unsigned long long>(layers[l].bytes_read));
      bytes += line;
      std::snprintf(line, sizeof(line), "moestream_expert_cache_stall_seconds_total{layer=\"%zu\"} %.6f\n", l,
                    static_cast<double>(layers[l].stall_ns) * 1e-9);
      stall += line;
    }
    out += misses + bytes + stall;
  }
  return out;
}

}  // namespace moestream::server
