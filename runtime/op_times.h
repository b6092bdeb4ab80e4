// Where the forward pass spends its time, summed over steps: attention (its norm, projections,
// the attention itself and the residual add), the dense FFN, the MoE layer (router, expert
// waits and compute), the output head (final norm and the vocabulary product), and the rest
// (embedding rows, bookkeeping). A clock read per section, about 20 per step: always on.
#pragma once

#include <cstdint>

namespace moestream {

struct OpTimes {
  uint64_t attention_ns = 0;
  uint64_t dense_ffn_ns = 0;
  uint64_t moe_ns = 0;
  uint64_t head_ns = 0;
  uint64_t other_ns = 0;
  uint64_t steps = 0;

  uint64_t total_ns() const { return attention_ns + dense_ffn_ns + moe_ns + head_ns + other_ns; }
  OpTimes plus(const OpTimes& other) const {
    return {attention_ns + other.attention_ns, dense_ffn_ns + other.dense_ffn_ns, moe_ns + other.moe_ns,
            head_ns + other.head_ns,           other_ns + other.other_ns,         steps + other.steps};
  }
  OpTimes minus(const OpTimes& earlier) const {
    return {attention_ns - earlier.attention_ns, dense_ffn_ns - earlier.dense_ffn_ns, moe_ns - earlier.moe_ns,
            head_ns - earlier.head_ns,           other_ns - earlier.other_ns,         steps - earlier.steps};
  }
};

}  // namespace moestream
