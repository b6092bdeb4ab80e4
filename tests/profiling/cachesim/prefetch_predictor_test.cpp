#include "profiling/cachesim/prefetch_predictor.h"

#include <doctest/doctest.h>

#include "tiny_traces.h"

using namespace moestream::cachesim;

TEST_CASE("prefetch model names parse and print") {
  CHECK(parse_prefetch("oracle") == PrefetchKind::kOracleNextLayer);
  CHECK(parse_prefetch("cooccurrence") == PrefetchKind::kCoOccurrence);
  CHECK(parse_prefetch("pregate") == PrefetchKind::kPregate);
  CHECK_FALSE(parse_prefetch("magic").has_value());
  CHECK(prefetch_name(PrefetchKind::kPregate) == "pregate");
}

TEST_CASE("oracle names the step's own experts, pre-gating reads the recorded guesses") {
  auto trace = testing::make_trace(1, 8, 2, {{{{3, 5}}, {{1, 2}}}});
  trace.pregate_width = 3;
  trace.pregate = {3, 4, 5, 0, 1, 7};
  std::vector<uint16_t> guess;
  OracleNextLayerPredictor oracle(trace);
  oracle.predict(1, 8, &guess);
  CHECK(guess == std::vector<uint16_t>{1, 2});
  PregatePredictor pregate(trace);
  pregate.predict(0, 2, &guess);
  CHECK(guess == std::vector<uint16_t>{3, 4});
  pregate.predict(1, 9, &guess);
  CHECK(guess == std::vector<uint16_t>{0, 1, 7});
}
