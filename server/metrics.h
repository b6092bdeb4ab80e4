// The server's Prometheus counters and histograms (GET /metrics), plus the engine's and the
// expert cache's figures read at scrape time. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/engine/engine.h"

namespace moestream::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double value);
  std::string format(const std::string& name, const std::string& help) const;

 private:
  mutable std::mutex mutex_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

struct Metrics {
  std::atomic<uint64_t> requests{0}, requests_failed{0}, rejected_queue_full{0};
  std::atomic<uint64_t> prompt_tokens{0}, generated_tokens{0}, prompt_cache_hit_tokens{0};
  Histogram time_to_first_token{{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}};
  Histogram inter_token{{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}};

  // Prometheus text format, moestream_* names.
  std::string format(const Engine* engine) const;
};

}  // namespace moestream::server
