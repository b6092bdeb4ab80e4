// The compressed MLA KV cache: per token and layer exactly kv_lora_rank + qk_rope_head_dim
// values, the normalized latent c_kv followed by the roped shared key k_pe
// (docs/model-math.md §6.3), in float32 or bfloat16. Rows [0, size()) are valid; positions
// equal row indices.
#pragma once

#include <cstdint>
#include <vector>

#include "format/model_config.h"
#include "kernels/latent_attention.h"
#include "platform/status.h"

namespace moestream {

enum class KvCachePrecision { kF32, kBF16 };

class KvCache {
 public:
  KvCache(int64_t layers, int64_t latent_dim, int64_t rope_dim, KvCachePrecision precision);

  int64_t layers() const { return layers_; }
  int64_t latent_dim() const { return latent_dim_; }
  int64_t rope_dim() const { return rope_dim_; }
  int64_t row_width() const { return latent_dim_ + rope_dim_; }
  KvCachePrecision precision() const { return precision_; }
  int64_t bytes_per_token_per_layer() const { return row_width() * element_bytes(); }
  int64_t bytes_per_token() const { return layers_ * bytes_per_token_per_layer(); }
  // What reserve(tokens) allocates.
  uint64_t bytes_for(int64_t tokens) const { return static_cast<uint64_t>(tokens * bytes_per_token()); }

  // Number of tokens whose rows are complete in every layer.
  int64_t size() const { return size_; }
  // Makes room for rows [0, tokens) (keeps existing rows).
  void reserve(int64_t tokens);
  // Marks rows [0, tokens) valid after a forward step, or drops rejected ones (rollback).
  void set_size(int64_t tokens) { size_ = tokens; }

  // Stores one row (latent then rope) at `position` < reserved capacity.
  void write(int64_t layer, int64_t position, const float* latent, const float* rope);
  // Copies rows [begin, end) of `layer` as float32, row_width() values each.
  void read(int64_t layer, int64_t begin, int64_t end, float* out) const;
  // Raw rows [begin, end) of every layer, layer after layer (bytes_for(end - begin) bytes),
  // as stored (f32 or bf16 bits): the prefix cache copies KV with these.
  void copy_rows_out(int64_t begin, int64_t end, uint8_t* out) const;
  // Stores raw rows from copy_rows_out() of a cache of the same shape; reserves room.
  void copy_rows_in(int64_t begin, int64_t end, const uint8_t* in);
  // The rows of `layer` in place when they are float32 (no copy needed), else null.
  const float* f32_rows(int64_t layer) const {
    return precision_ == KvCachePrecision::kF32 ? f32_[layer].data() : nullptr;
  }
  // The rows of `layer` as stored, for the attention kernel (which widens bf16 block by block).
  kernels::LatentKvRows latent_rows(int64_t layer) const {
    kernels::LatentKvRows rows;
    rows.bf16 = precision_ == KvCachePrecision::kBF16;
    rows.rows = rows.bf16 ? static_cast<const void*>(bf16_[layer].data()) : f32_[layer].data();
    rows.row_stride = row_width();
    rows.latent_dim = latent_dim_;
    rows.rope_dim = rope_dim_;
    return rows;
  }

 private:
  int64_t element_bytes() const { return precision_ == KvCachePrecision::kF32 ? 4 : 2; }

  int64_t layers_;
  int64_t latent_dim_;
  int64_t rope_dim_;
  KvCachePrecision precision_;
  int64_t capacity_ = 0;
  int64_t size_ = 0;
  std::vector<std::vector<float>> f32_;      // [layer][capacity * row_width]
  std::vector<std::vector<uint16_t>> bf16_;  // same, bf16 bits
};

// The KV cache of every layer of `config`, the MTP layer included, for `tokens` positions: the
// one place the budget plan and the CLI count KV bytes.
uint64_t kv_cache_bytes(const ModelConfig& config, int64_t tokens, KvCachePrecision precision);

}  // namespace moestream
