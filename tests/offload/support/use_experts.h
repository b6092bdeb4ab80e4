// Test-only: what a layer step does to the expert cache: pin experts of a layer, take each as
// its read lands (handing it to `on_ready` while pinned), then unpin them all.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "offload/expert_cache.h"

namespace moestream::testing {

inline void use_experts(ExpertCache& cache, int64_t layer, const std::vector<int64_t>& experts,
                        const std::function<void(const ReadyExpert&)>& on_ready = {}) {
  REQUIRE(cache.pin(layer, experts).ok());
  std::vector<int64_t> waiting = experts;
  while (!waiting.empty()) {
    auto ready = cache.wait_any(layer, waiting);
    REQUIRE_MESSAGE(ready.ok(), ready.status().to_string());
    if (on_ready) on_ready(*ready);
    waiting.erase(std::find(waiting.begin(), waiting.end(), ready->expert));
  }
  for (int64_t e : experts) cache.unpin(layer, e);
}

}  // namespace moestream::testing
