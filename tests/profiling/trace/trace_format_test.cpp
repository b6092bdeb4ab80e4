#include "profiling/trace/trace_format.h"

#include <doctest/doctest.h>

using namespace moestream::trace;

TEST_CASE("record size follows the header's shape") {
  TraceHeader h;
  h.top_k = 8;
  h.num_candidates = 4;
  h.num_pregate = 8;
  // 12 fixed + 8 x 11 chosen + 12 x 6 scored + 2 wasted
  CHECK(h.record_bytes() == 12 + 88 + 72 + 2);
}

TEST_CASE("header validation names the field") {
  TraceHeader h;
  h.num_moe_layers = 58;
  h.experts_per_layer = 256;
  h.top_k = 8;
  CHECK(h.validate().ok());
  h.top_k = 0;
  CHECK(h.validate().message().find("top_k") != std::string::npos);
  h.top_k = 8;
  h.experts_per_layer = 0;
  CHECK(h.validate().message().find("experts_per_layer") != std::string::npos);
}

TEST_CASE("outcome and phase names") {
  CHECK(std::string(outcome_name(ExpertOutcome::kPrefetchLate)) == "prefetch_late");
  CHECK(std::string(phase_name(Phase::kPrefill)) == "prefill");
}
