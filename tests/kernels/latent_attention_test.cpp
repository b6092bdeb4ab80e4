// The tiled latent attention against a plain two-pass softmax in double precision: every
// block-operation set this CPU runs, f32 and bf16 rows, decode (one token, the rows split
// between threads) and causal chunks that start mid-cache, tile edges (block, lanes, head
// and token tiles) on both sides, and scores large enough that an unstabilized softmax
// would overflow.
#include "kernels/latent_attention.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/kernel_threads.h"
#include "platform/float_formats.h"

using namespace moestream;
using namespace moestream::kernels;

namespace {

struct Case {
  int64_t tokens, heads, first_position, latent, rope;
  bool bf16;
  float spread;  // scale of the scores
};

// Expected [heads][tokens][latent] from the rows as the kernel sees them (bf16-rounded).
std::vector<float> expected(const Case& c, const std::vector<float>& q, const std::vector<float>& rows,
                            float scale) {
  const int64_t width = c.latent + c.rope;
  std::vector<float> out(static_cast<size_t>(c.heads * c.tokens * c.latent));
  for (int64_t t = 0; t < c.tokens; ++t) {
    const int64_t visible = c.first_position + t + 1;
    for (int64_t h = 0; h < c.heads; ++h) {
      const float* qr = q.data() + (t * c.heads + h) * width;
      std::vector<double> s(static_cast<size_t>(visible));
      double top = -1e300;
      for (int64_t j = 0; j < visible; ++j) {
        double d = 0;
        for (int64_t i = 0; i < width; ++i) d += double(qr[i]) * rows[j * width + i];
        s[j] = d * scale;
        top = std::max(top, s[j]);
      }
      double sum = 0;
      for (auto& v : s) sum += (v = std::exp(v - top));
      for (int64_t i = 0; i < c.latent; ++i) {
        double acc = 0;
        for (int64_t j = 0; j < visible; ++j) acc += s[j] * rows[j * width + i];
        out[(h * c.tokens + t) * c.latent + i] = static_cast<float>(acc / sum);
      }
    }
  }
  return out;
}

float max_error(const Case& c, const LatentAttentionOps& ops, int64_t threads, uint32_t seed) {
  const int64_t width = c.latent + c.rope;
  const int64_t rows_count = c.first_position + c.tokens;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(static_cast<size_t>(c.tokens * c.heads * width));
  for (auto& v : q) v = normal(rng) * c.spread;
  std::vector<float> rows(static_cast<size_t>(rows_count * width));
  std::vector<uint16_t> rows_bf16(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    rows_bf16[i] = f32_to_bf16(normal(rng));
    rows[i] = c.bf16 ? bf16_to_f32(rows_bf16[i]) : normal(rng);
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(width));
  LatentQueries lq;
  lq.q = q.data();
  lq.tokens = c.tokens;
  lq.heads = c.heads;
  lq.first_position = c.first_position;
  lq.scale = scale;
  LatentKvRows kv;
  kv.rows = c.bf16 ? static_cast<const void*>(rows_bf16.data()) : rows.data();
  kv.bf16 = c.bf16;
  kv.row_stride = width;
  kv.latent_dim = c.latent;
  kv.rope_dim = c.rope;
  std::vector<float> out(static_cast<size_t>(c.heads * c.tokens * c.latent), -7.0f);
  ScratchArena arena(1 << 16);
  set_kernel_threads(threads);
  set_latent_attention_ops(&ops);
  latent_attention(lq, kv, out.data(), arena);
  set_latent_attention_ops(nullptr);
  set_kernel_threads(0);
  const std::vector<float> want = expected(c, q, rows, scale);
  float worst = 0.0f;
  for (size_t i = 0; i < out.size(); ++i) {
    const float e = std::abs(out[i] - want[i]) / (1.0f + std::abs(want[i]));
    worst = std::isfinite(out[i]) ? std::max(worst, e) : 1e30f;
  }
  return worst;
}

std::vector<const LatentAttentionOps*> op_sets() {
  std::vector<const LatentAttentionOps*> sets{&latent_attention_ops_reference()};
  if (std::string_view(active_latent_attention_ops().name) != "reference") {
    sets.push_back(&latent_attention_ops_avx2());
    if (std::string_view(active_latent_attention_ops().name) == "avx512") {
      sets.push_back(&latent_attention_ops_avx512());
      sets.push_back(&latent_attention_ops_avx512_8());  // chosen for tiles of <= 8 queries
    }
  }
  return sets;
}

}  // namespace

TEST_CASE("latent attention equals a two-pass softmax for every op set, f32 and bf16, decode and chunks") {
  const Case cases[] = {
      {1, 1, 0, 16, 16, false, 1.0f},      // one row
      {1, 8, 300, 128, 16, false, 1.0f},   // decode: rows split between threads
      {1, 8, 300, 128, 16, true, 1.0f},    // bf16 rows
      {1, 3, 64, 24, 8, false, 1.0f},      // columns that do not fill a vector; a block edge
      {17, 8, 0, 128, 16, false, 1.0f},    // a causal prompt over several token tiles
      {13, 5, 70, 64, 16, true, 1.0f},     // a chunk in mid-cache, odd heads
      {2, 128, 129, 512, 64, true, 1.0f},  // the full V3 head shape: two head tiles
      {9, 4, 40, 32, 16, false, 30.0f},    // scores far above exp's range without the max
  };
  for (const LatentAttentionOps* ops : op_sets()) {
    for (const Case& c : cases) {
      for (int64_t threads : {1, 2, 3}) {
        CAPTURE(ops->name);
        CAPTURE(c.tokens);
        CAPTURE(c.heads);
        CAPTURE(c.first_position);
        CAPTURE(c.bf16);
        CAPTURE(threads);
        CHECK(max_error(c, *ops, threads, 7) < 2e-5f);
      }
    }
  }
}
