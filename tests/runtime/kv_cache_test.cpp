#include "runtime/kv_cache.h"

#include <doctest/doctest.h>

#include "platform/float_formats.h"

using namespace moestream;

TEST_CASE("the cache holds exactly kv_lora_rank + qk_rope_head_dim values per token and layer") {
  KvCache f32(3, 128, 16, KvCachePrecision::kF32);
  CHECK(f32.bytes_per_token_per_layer() == (128 + 16) * 4);
  CHECK(f32.bytes_per_token() == 3 * (128 + 16) * 4);
  KvCache deepseek(61, 512, 64, KvCachePrecision::kBF16);
  CHECK(deepseek.bytes_per_token() == 70272);  // docs/model-math.md §6.3
}

TEST_CASE("rows round-trip in float32 and bfloat16") {
  for (auto precision : {KvCachePrecision::kF32, KvCachePrecision::kBF16}) {
    KvCache cache(2, 3, 2, precision);
    cache.reserve(2);
    const float latent[3] = {1.0f, 0.1f, -2.5f};
    const float rope[2] = {3.0f, 1e-3f};
    cache.write(1, 1, latent, rope);
    cache.reserve(100);  // growing keeps what was written
    float row[5];
    cache.read(1, 1, 2, row);
    for (int i = 0; i < 3; ++i) {
      CHECK(row[i] == (precision == KvCachePrecision::kF32 ? latent[i] : bf16_to_f32(f32_to_bf16(latent[i]))));
    }
    CHECK(row[3] == 3.0f);
  }
}
