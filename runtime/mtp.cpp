#include "runtime/mtp.h"

#include <algorithm>

#include "kernels/matmul.h"
#include "runtime/linear.h"
#include "runtime/model.h"
#include "runtime/rms_norm.h"

namespace moestream {

Result<MtpModule> MtpModule::load(const WeightSource& source, const ModelConfig& config,
                                  int64_t layer, const kernels::WeightRef& main_embedding,
                                  const kernels::WeightRef& main_head) {
  MtpModule mtp;
  mtp.layer_ = layer;
  mtp.hidden_ = config.hidden_size;
  mtp.vocab_ = config.vocab_size;
  mtp.kv_lora_rank_ = config.kv_lora_rank;
  mtp.rope_dim_ = config.qk_rope_head_dim;
  mtp.eps_ = config.rms_norm_eps;
  const std::string p = layer_prefix(layer);
  mtp.embedding_ = main_embedding;
  if (source.has_tensor(p + "embed_tokens.weight")) {
    MOESTREAM_ASSIGN_OR_RETURN(mtp.embedding_, load_weight(source, p + "embed_tokens.weight",
                                                           mtp.vocab_, mtp.hidden_));
  }
  mtp.head_ = main_head;
  if (source.has_tensor(p + "shared_head.head.weight")) {
    MOESTREAM_ASSIGN_OR_RETURN(mtp.head_, load_weight(source, p + "shared_head.head.weight",
                                                      mtp.vocab_, mtp.hidden_));
  }
  MOESTREAM_ASSIGN_OR_RETURN(mtp.enorm_, load_vector(source, p + "enorm.weight", mtp.hidden_));
  MOESTREAM_ASSIGN_OR_RETURN(mtp.hnorm_, load_vector(source, p + "hnorm.weight", mtp.hidden_));
  MOESTREAM_ASSIGN_OR_RETURN(mtp.eh_proj_, load_weight(source, p + "eh_proj.weight", mtp.hidden_,
                                                       2 * mtp.hidden_));
  MOESTREAM_ASSIGN_OR_RETURN(mtp.head_norm_,
                             load_vector(source, p + "shared_head.norm.weight", mtp.hidden_));
  MOESTREAM_ASSIGN_OR_RETURN(mtp.block_, DecoderLayer::load(source, config, layer));
  return mtp;
}

KvCache MtpModule::new_kv_cache(KvCachePrecision precision) const {
  return KvCache(1, kv_lora_rank_, rope_dim_, precision);
}

Status MtpModule::forward(std::span<const int32_t> next_tokens, const float* main_hidden,
                          KvCache& cache, const StepContext& context,
                          std::vector<float>* draft_logits,
                          std::vector<float>* draft_hidden, bool last_row_logits) const {
  const int64_t t_count = static_cast<int64_t>(next_tokens.size());
  if (t_count == 0) return invalid_argument("mtp: no tokens");
  if (cache.layers() != 1 || cache.latent_dim() != kv_lora_rank_ || cache.rope_dim() != rope_dim_) {
    return invalid_argument("mtp: the KV cache was not made for the MTP module");
  }
  const int64_t h = hidden_;
  std::vector<float> embedded(static_cast<size_t>(t_count * h));
  MOESTREAM_TRY(embed_tokens(embedding_, next_tokens, embedded.data()));
  // Concatenation order: [enorm(embedding), hnorm(hidden)].
  std::vector<float> joined(static_cast<size_t>(t_count * 2 * h));
  for (int64_t t = 0; t < t_count; ++t) {
    rms_norm(embedded.data() + t * h, enorm_.data(), h, eps_, joined.data() + t * 2 * h);
    rms_norm(main_hidden + t * h, hnorm_.data(), h, eps_, joined.data() + t * 2 * h + h);
  }
  std::vector<float> z(static_cast<size_t>(t_count * h));
  kernels::matmul(eh_proj_, joined.data(), t_count, z.data());
  const int64_t start = cache.size();
  cache.reserve(start + t_count);
  Status s = block_->forward(z.data(), t_count, start, cache, 0, context);
  if (!s.ok()) return s.with_context("mtp layer " + std::to_string(layer_));
  cache.set_size(start + t_count);
  rms_norm_rows(z.data(), t_count, head_norm_.data(), h, eps_, z.data());
  if (draft_logits) {
    const int64_t first = last_row_logits ? t_count - 1 : 0;
    draft_logits->resize(static_cast<size_t>((t_count - first) * vocab_));
    kernels::matmul(head_, z.data() + first * h, t_count - first, draft_logits->data());
  }
  if (draft_hidden) *draft_hidden = std::move(z);
  return ok_status();
}

}  // namespace moestream
