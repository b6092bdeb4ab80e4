#include "profiling/cachesim/cooccurrence_predictor.h"

#include <doctest/doctest.h>

#include "tiny_traces.h"

using namespace moestream::cachesim;

TEST_CASE("co-occurrence predicts the experts that followed in training, by vote") {
  // k = 2. Training: layer 0 {0,1} -> layer 1 {2,3}; layer 0 {0,4} -> layer 1 {2,5}.
  auto trace = testing::make_trace(2, 6, 2,
                                   {{{{0, 1}, {2, 3}}, {{0, 4}, {2, 5}}},
                                    {{{0, 1}, {2, 3}}}});
  CoOccurrencePredictor predictor(trace, 4);  // the first 2 tokens x 2 layers
  std::vector<uint16_t> guess;
  predictor.predict(4, 2, &guess);  // replayed token, layer 0: no earlier layer
  CHECK(guess.empty());
  predictor.predict(5, 2, &guess);  // replayed token, layer 1, after {0,1}
  // votes: 2 <- 0 twice + 1 once = 3; 3 <- 0 once + 1 once = 2; 5 <- 0 once = 1
  CHECK(guess == std::vector<uint16_t>{2, 3});
  predictor.predict(5, 3, &guess);
  CHECK(guess == std::vector<uint16_t>{2, 3, 5});
}
