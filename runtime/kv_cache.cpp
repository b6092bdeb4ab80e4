#include "runtime/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "platform/float_formats.h"

namespace moestream {

KvCache::KvCache(int64_t layers, int64_t latent_dim, int64_t rope_dim, KvCachePrecision precision)
    : layers_(layers), latent_dim_(latent_dim), rope_dim_(rope_dim), precision_(precision) {
  if (precision_ == KvCachePrecision::kF32) {
    f32_.resize(static_cast<size_t>(layers_));
  } else {
    bf16_.resize(static_cast<size_t>(layers_));
  }
}

void KvCache::reserve(int64_t tokens) {
  if (tokens <= capacity_) return;
  // Grow geometrically so token-by-token decode does not reallocate every step.
  capacity_ = std::max(tokens, capacity_ * 2);
  const size_t values = static_cast<size_t>(capacity_ * row_width());
  for (auto& layer : f32_) layer.resize(values);
  for (auto& layer : bf16_) layer.resize(values);
}

void KvCache::write(int64_t layer, int64_t position, const float* latent, const float* rope) {
  const size_t offset = static_cast<size_t>(position * row_width());
  if (precision_ == KvCachePrecision::kF32) {
    float* row = f32_[layer].data() + offset;
    std::copy(latent, latent + latent_dim_, row);
    std::copy(rope, rope + rope_dim_, row + latent_dim_);
  } else {
    uint16_t* row = bf16_[layer].data() + offset;
    for (int64_t i = 0; i < latent_dim_; ++i) row[i] = f32_to_bf16(latent[i]);
    for (int64_t i = 0; i < rope_dim_; ++i) row[latent_dim_ + i] = f32_to_bf16(rope[i]);
  }
}

void KvCache::read(int64_t layer, int64_t begin, int64_t end, float* out) const {
  const size_t first = static_cast<size_t>(begin * row_width());
  const size_t count = static_cast<size_t>((end - begin) * row_width());
  if (precision_ == KvCachePrecision::kF32) {
    std::copy_n(f32_[layer].data() + first, count, out);
  } else {
    const uint16_t* src = bf16_[layer].data() + first;
    for (size_t i = 0; i < count; ++i) out[i] = bf16_to_f32(src[i]);
  }
}

void KvCache::copy_rows_out(int64_t begin, int64_t end, uint8_t* out) const {
  const size_t bytes = static_cast<size_t>((end - begin) * bytes_per_token_per_layer());
  const size_t offset = static_cast<size_t>(begin * bytes_per_token_per_layer());
  for (int64_t l = 0; l < layers_; ++l) {
    const uint8_t* src = precision_ == KvCachePrecision::kF32
                             ? reinterpret_cast<const uint8_t*>(f32_[l].data())
                             : reinterpret_cast<const uint8_t*>(bf16_[l].data());
    std::memcpy(out + static_cast<size_t>(l) * bytes, src + offset, bytes);
  }
}

void KvCache::copy_rows_in(int64_t begin, int64_t end, const uint8_t* in) {
  reserve(end);
  const size_t bytes = static_cast<size_t>((end - begin) * bytes_per_token_per_layer());
  const size_t offset = static_cast<size_t>(begin * bytes_per_token_per_layer());
  for (int64_t l = 0; l < layers_; ++l) {
    uint8_t* dst = precision_ == KvCachePrecision::kF32 ? reinterpret_cast<uint8_t*>(f32_[l].data())
                                                        : reinterpret_cast<uint8_t*>(bf16_[l].data());
    std::memcpy(dst + offset, in + static_cast<size_t>(l) * bytes, bytes);
  }
}

uint64_t kv_cache_bytes(const ModelConfig& config, int64_t tokens, KvCachePrecision precision) {
  return KvCache(config.total_layers(), config.kv_lora_rank, config.qk_rope_head_dim, precision).bytes_for(tokens);
}

}  // namespace moestream
