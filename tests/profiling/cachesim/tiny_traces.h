// Hand-made routing traces with answers worked out on paper (see each test).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "profiling/cachesim/cache_policy.h"
#include "profiling/cachesim/routing_trace.h"

namespace moestream::cachesim::testing {

// One sequence per entry of `sequences`; each sequence is a list of tokens, each token a
// list of layers, each layer the k experts it chose.
using Token = std::vector<std::vector<uint16_t>>;
inline RoutingTrace make_trace(uint32_t num_layers, uint32_t num_experts, uint32_t k,
                               const std::vector<std::vector<Token>>& sequences) {
  RoutingTrace t;
  t.num_layers = num_layers;
  t.num_experts = num_experts;
  t.top_k = k;
  for (uint32_t l = 0; l < num_layers; ++l) t.layer_labels.push_back(l);
  for (const auto& seq : sequences) {
    for (const auto& token : seq) {
      uint32_t id = static_cast<uint32_t>(t.num_tokens());
      t.token_sequence.push_back(t.num_sequences);
      t.token_phase.push_back(kPhaseDecode);
      for (uint16_t l = 0; l < token.size(); ++l) {
        t.step_layer.push_back(l);
        t.step_token.push_back(id);
        t.experts.insert(t.experts.end(), token[l].begin(), token[l].end());
      }
    }
    ++t.num_sequences;
  }
  return t;
}

// One layer, k = 1: the classic paging sequence of the policy tests.
inline RoutingTrace single_key_trace(const std::vector<uint16_t>& keys, uint32_t num_experts) {
  std::vector<Token> tokens;
  for (uint16_t key : keys) tokens.push_back({{key}});
  return make_trace(1, num_experts, 1, {tokens});
}

// Counts hits of `policy` on `keys` (next uses computed for OPT).
inline int count_hits(CachePolicy& policy, const std::vector<uint32_t>& keys) {
  int hits = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    uint64_t next = kNeverUsedAgain;
    for (size_t j = i + 1; j < keys.size(); ++j)
      if (keys[j] == keys[i]) { next = j; break; }
    hits += policy.access({keys[i], next, i});
  }
  return hits;
}

// The paging sequence used by every policy test: 0 1 0 2 0 3 1 0 with 2 slots.
inline const std::vector<uint32_t> kPagingSequence = {0, 1, 0, 2, 0, 3, 1, 0};

// Random routing with locality: each token keeps some of the previous token's experts and
// draws the rest from a skewed popularity, like real routing.
inline RoutingTrace random_trace(uint32_t seed, uint32_t layers, uint32_t experts, uint32_t k,
                                 uint32_t sequences, uint32_t tokens_per_sequence) {
  std::mt19937 rng(seed);
  std::vector<std::vector<Token>> seqs;
  for (uint32_t q = 0; q < sequences; ++q) {
    std::vector<Token> seq;
    Token prev(layers);
    for (uint32_t t = 0; t < tokens_per_sequence; ++t) {
      Token token(layers);
      for (uint32_t l = 0; l < layers; ++l) {
        std::vector<uint16_t>& chosen = token[l];
        for (uint16_t e : prev[l])
          if (chosen.size() < k / 2 && rng() % 3 == 0) chosen.push_back(e);
        while (chosen.size() < k) {
          // Skewed: squares of uniform numbers favour low ids.
          double u = std::uniform_real_distribution<double>(0, 1)(rng);
          auto e = static_cast<uint16_t>(u * u * experts);
          e = static_cast<uint16_t>((e + 7 * l) % experts);
          bool dup = false;
          for (uint16_t c : chosen) dup |= c == e;
          if (!dup) chosen.push_back(e);
        }
      }
      prev = token;
      seq.push_back(std::move(token));
    }
    seqs.push_back(std::move(seq));
  }
  return make_trace(layers, experts, k, seqs);
}

}  // namespace moestream::cachesim::testing
