// Picks the next token from a row of logits: greedy, or temperature sampling with top-k,
// top-p (nucleus) and min-p filtering, plus a repetition penalty. The random stream is a
// seeded mt19937_64 with a hand-rolled uniform, so the same seed gives the same tokens on
// every platform.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "platform/status.h"

namespace moestream {

struct SamplingParams {
  double temperature = 0.0;         // <= 0: greedy (argmax)
  int64_t top_k = 0;                // 0: off
  double top_p = 1.0;               // 1: off
  double min_p = 0.0;               // 0: off; keeps tokens with p >= min_p * p_max
  double repetition_penalty = 1.0;  // 1: off; > 1 discourages tokens already in the history
  // OpenAI's penalties on the generated tokens (history from generated_start()):
  // logit -= frequency_penalty * count + presence_penalty * (count > 0). -2..2; 0: off.
  double frequency_penalty = 0.0;
  double presence_penalty = 0.0;
  uint64_t seed = 0;

  Status check() const;
};

struct TokenProbability {
  int32_t token = 0;
  double weight = 0;  // proportional to the probability (entries need not sum to 1)
};

// The distribution a sampler draws from after temperature, penalties, top-k, min-p and top-p:
// the tokens it may pick, most likely first. Greedy: one entry.
struct TokenDistribution {
  std::vector<TokenProbability> entries;
  double probability(int32_t token) const;  // normalized; 0 for a token it cannot pick
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  const SamplingParams& params() const { return params_; }
  // history: the tokens seen so far (prompt and generated), for the repetition penalty.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);
  // sample() in two steps, for speculative sampling: the distribution (no random number
  // drawn), then a draw from it (or from another, e.g. the residual of a rejected draft).
  TokenDistribution distribution(std::span<const float> logits, std::span<const int32_t> history) const;
  int32_t draw(const TokenDistribution& d);
  double uniform() { return next_uniform(); }  // [0, 1), from the same stream
  // Where the generated part of the history starts (the prompt's length); default 0.
  void set_generated_start(size_t start) { generated_start_ = start; }

 private:
  double next_uniform();  // [0, 1)

  SamplingParams params_;
  std::mt19937_64 rng_;
  size_t generated_start_ = 0;
};

}  // namespace moestream
