#include "runtime/model.h"

#include <algorithm>

#include "kernels/dequantize.h"
#include "kernels/kernel_threads.h"
#include "kernels/latent_attention.h"
#include "kernels/matmul.h"
#include "platform/clock.h"
#include "runtime/linear.h"
#include "runtime/model_config_check.h"
#include "runtime/rms_norm.h"

namespace moestream {

Status embed_tokens(const kernels::WeightRef& embedding, std::span<const int32_t> tokens,
                    float* out, const std::function<void(const void*, size_t)>& release) {
  // Fault-around maps the aligned 64 KiB window of a faulting page (fault_around_bytes).
  constexpr uintptr_t kWindow = 64 * 1024;
  const uint64_t element = embedding.type == kernels::WeightType::kF32 ? 4 : embedding.type == kernels::WeightType::kBF16 ? 2 : 1;
  const uint64_t row_bytes = static_cast<uint64_t>(embedding.cols) * element;
  const auto base = reinterpret_cast<uintptr_t>(embedding.data);
  const uintptr_t table_end = base + row_bytes * static_cast<uint64_t>(embedding.rows);
  for (size_t t = 0; t < tokens.size(); ++t) {
    if (tokens[t] < 0 || tokens[t] >= embedding.rows) {
      return invalid_argument("token id " + std::to_string(tokens[t]) + " at index " +
                              std::to_string(t) + " is outside the vocabulary (0.." +
                              std::to_string(embedding.rows - 1) + ")");
    }
    kernels::dequantize_row(embedding, tokens[t], out + static_cast<int64_t>(t) * embedding.cols);
    if (!release) continue;
    const uintptr_t row = base + static_cast<uint64_t>(tokens[t]) * row_bytes;
    const uintptr_t begin = std::max(base, row / kWindow * kWindow);
    const uintptr_t end = std::min(table_end, (row + row_bytes + kWindow - 1) / kWindow * kWindow);
    release(reinterpret_cast<const void*>(begin), end - begin);
  }
  return ok_status();
}

Result<std::unique_ptr<Model>> Model::load(const WeightSource& source, ExpertProvider& experts) {
  std::unique_ptr<Model> model(new Model());
  model->config_ = source.config();
  const ModelConfig& c = model->config_;
  MOESTREAM_TRY(check_model_config(c));
  MOESTREAM_ASSIGN_OR_RETURN(model->rope_, RotaryEmbedding::from_config(c));
  model->experts_ = &experts;
  MOESTREAM_ASSIGN_OR_RETURN(model->embed_,
                             load_weight(source, "model.embed_tokens.weight", c.vocab_size, c.hidden_size));
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    MOESTREAM_ASSIGN_OR_RETURN(DecoderLayer layer, DecoderLayer::load(source, c, l));
    model->layers_.push_back(std::move(layer));
  }
  MOESTREAM_ASSIGN_OR_RETURN(model->final_norm_, load_vector(source, "model.norm.weight", c.hidden_size));
  const char* head_name = c.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight";
  MOESTREAM_ASSIGN_OR_RETURN(model->lm_head_, load_weight(source, head_name, c.vocab_size, c.hidden_size));
  if (c.num_nextn_predict_layers > 0 &&
      source.has_tensor(layer_prefix(c.num_hidden_layers) + "eh_proj.weight")) {
    MOESTREAM_ASSIGN_OR_RETURN(
        MtpModule mtp, MtpModule::load(source, c, c.num_hidden_layers, model->embed_, model->lm_head_));
    model->mtp_ = std::make_unique<MtpModule>(std::move(mtp));
  }
  // The plan: a decode step of one sequence over a 4K context needs no growth.
  model->arena_.reserve(model->scratch_bytes(1, 4096));
  return model;
}

KvCache Model::new_kv_cache(KvCachePrecision precision) const {
  return KvCache(config_.num_hidden_layers, config_.kv_lora_rank, config_.qk_rope_head_dim,
                 precision);
}

StepContext Model::context() const {
  StepContext ctx;
  ctx.arena = &arena_;
  ctx.rope = &rope_;
  ctx.experts = experts_;
  ctx.attention_form = attention_form_;
  ctx.routing_observer = &observer_;
  ctx.after_attention = pregate_ ? &pregate_ : nullptr;
  ctx.op_times = &op_times_;
  return ctx;
}

void Model::set_prefetch_margin(int64_t margin, int64_t lookahead) {
  prefetch_margin_ = margin;
  if (margin < 0 || lookahead < 1) {
    pregate_ = nullptr;
    return;
  }
  // After each layer's attention, guess the next MoE layer's experts if it is at most
  // `lookahead` layers on: dense layers in between then give the disk time to read them, and
  // each later layer's guess replaces the earlier one's reads that have not started.
  pregate_ = [this, lookahead](int64_t layer, const float* hidden, int64_t tokens) {
    if (layer < -1) return;
    auto next = static_cast<size_t>(layer + 1);
    while (next < layers_.size() && layers_[next].moe() == nullptr) ++next;
    if (next >= layers_.size() || static_cast<int64_t>(next) - layer > lookahead) return;
    // Buffers kept between guesses (the scheduler thread makes them all): no allocation per step.
    std::vector<float> chunk_normed;
    std::vector<float>& normed = tokens <= MoeLayer::kKeptGuessRows ? pregate_normed_ : chunk_normed;
    std::vector<int64_t>& predicted = pregate_predicted_;
    normed.resize(static_cast<size_t>(tokens * config_.hidden_size));
    layers_[next].post_attention_norm(hidden, tokens, normed.data());
    if (pregate_observer_) {
      layers_[next].moe()->predict_experts(normed.data(), tokens, prefetch_margin_, &predicted, &pregate_scores_);
      pregate_observer_(static_cast<int64_t>(next), predicted, pregate_scores_);
    } else {
      layers_[next].moe()->predict_experts(normed.data(), tokens, prefetch_margin_, &predicted);
    }
    experts_->prefetch(static_cast<int64_t>(next), predicted);
  };
}

Status Model::forward(std::span<const int32_t> tokens, KvCache& cache,
                      const ForwardOutputs& outputs) {
  const SequenceStep step{tokens, &cache, SequenceStep::Rows::kAll};
  return forward_batch(std::span<const SequenceStep>(&step, 1), outputs);
}

Status Model::forward_batch(std::span<const SequenceStep> steps, const ForwardOutputs& outputs) {
  if (steps.empty()) return invalid_argument("forward: no sequences");
  int64_t rows = 0, out_rows = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const SequenceStep& step = steps[i];
    const KvCache* cache = step.cache;
    if (step.tokens.empty()) return invalid_argument("forward: no tokens");
    if (cache == nullptr || cache->layers() != config_.num_hidden_layers ||
        cache->latent_dim() != config_.kv_lora_rank || cache->rope_dim() != config_.qk_rope_head_dim) {
      return invalid_argument("forward: the KV cache was not made for this model");
    }
    for (size_t j = 0; j < i; ++j) {
      if (steps[j].cache == cache) return invalid_argument("forward: two sequences share one KV cache");
    }
    const auto t = static_cast<int64_t>(step.tokens.size());
    rows += t;
    out_rows += step.output == SequenceStep::Rows::kAll ? t : step.output == SequenceStep::Rows::kLast ? 1 : 0;
  }
  const int64_t hidden = config_.hidden_size;
  const StepContext ctx = context();
  const OpMark step_start = ctx.mark();
  const OpTimes before = op_times_;
  ++op_times_.steps;
  // Whatever the layers and the head do not take is "other" (embedding rows, bookkeeping).
  struct OtherTime {
    OpTimes& t;
    const OpTimes& before;
    const StepContext& ctx;
    OpMark start;
    ~OtherTime() {
      OpTime all;
      all.add(start, ctx.mark());
      t.other = t.other.plus(all.beyond(t.minus(before).total()));
    }
  } other{op_times_, before, ctx, step_start};
  arena_.reset();
  ScratchArena::Scope scope(arena_);
  SequenceRows* sequences = arena_.take<SequenceRows>(steps.size());
  int64_t* positions = arena_.take<int64_t>(static_cast<size_t>(rows));
  float* h = arena_.take<float>(static_cast<size_t>(rows * hidden));
  int64_t begin = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const SequenceStep& step = steps[i];
    const auto t = static_cast<int64_t>(step.tokens.size());
    const int64_t start = step.cache->size();
    Status s = embed_tokens(embed_, step.tokens, h + begin * hidden, embedding_release_);
    if (!s.ok()) return steps.size() == 1 ? s : s.with_context("sequence " + std::to_string(i));
    step.cache->reserve(start + t);
    sequences[i] = SequenceRows{begin, t, start, step.cache};
    for (int64_t r = 0; r < t; ++r) positions[begin + r] = start + r;
    begin += t;
  }
  const std::span<const SequenceRows> seqs(sequences, steps.size());
  // Layer -1: the embeddings, before the first layer runs (lookahead permitting).
  if (ctx.after_attention && *ctx.after_attention) (*ctx.after_attention)(-1, h, rows);
  for (size_t l = 0; l < layers_.size(); ++l) {
    Status s = layers_[l].forward(h, seqs, positions, static_cast<int64_t>(l), ctx);
    if (!s.ok()) return s.with_context("layer " + std::to_string(l));
  }
  for (const SequenceRows& s : seqs) s.cache->set_size(s.start + s.count);
  if (outputs.every_hidden) {
    outputs.every_hidden->resize(static_cast<size_t>(rows * hidden));
    rms_norm_rows(h, rows, final_norm_.data(), hidden, config_.rms_norm_eps, outputs.every_hidden->data());
  }

  // Only the rows asked for go through the final norm and the output head.
  float* selected = arena_.take<float>(static_cast<size_t>(out_rows * hidden));
  int64_t next = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const SequenceRows& s = seqs[i];
    int64_t from = s.begin, count = s.count;
    if (steps[i].output == SequenceStep::Rows::kNone) continue;
    if (steps[i].output == SequenceStep::Rows::kLast) from = s.begin + s.count - 1, count = 1;
    std::copy_n(h + from * hidden, count * hidden, selected + next * hidden);
    next += count;
  }
  if (out_rows == 0) return ok_status();
  const OpMark head_start = ctx.mark();
  rms_norm_rows(selected, out_rows, final_norm_.data(), hidden, config_.rms_norm_eps, selected);
  if (outputs.logits) {
    outputs.logits->resize(static_cast<size_t>(out_rows * config_.vocab_size));
    kernels::matmul(lm_head_, selected, out_rows, outputs.logits->data());
  }
  op_times_.head.add(head_start, ctx.mark());
  if (outputs.final_hidden) outputs.final_hidden->assign(selected, selected + out_rows * hidden);
  return ok_status();
}

uint64_t forward_scratch_bytes(const ModelConfig& c, int64_t rows, int64_t threads, AttentionForm form,
                               int64_t context) {
  rows = std::max<int64_t>(rows, 1);
  threads = std::max<int64_t>(threads, 1);
  const int64_t k = std::max<int64_t>(c.num_experts_per_tok, 1);
  const int64_t per_head = c.qk_nope_head_dim + c.v_head_dim;
  const int64_t q_width = c.num_attention_heads * (c.qk_nope_head_dim + c.qk_rope_head_dim);
  const int64_t kv_width = c.kv_lora_rank + c.qk_rope_head_dim;
  // Floats live at once: the step's hidden rows and selected rows, a layer's two row
  // buffers, then the larger of attention and the FFN.
  const int64_t step = 2 * rows * c.hidden_size + 2 * rows;
  const int64_t layer = 2 * rows * c.hidden_size;
  int64_t attention = rows * (q_width + c.q_lora_rank + kv_width + c.num_attention_heads * c.v_head_dim) +
                      c.kv_lora_rank;
  uint64_t kernel_bytes = 0;
  if (form == AttentionForm::kExpanded) {
    attention += context * (kv_width + c.kv_lora_rank + c.num_attention_heads * per_head + 1);
  } else {
    // Absorbed queries and head-major latents, then the kernel's own scratch.
    attention += rows * c.num_attention_heads * (kv_width + c.kv_lora_rank);
    kernel_bytes = kernels::latent_attention_scratch_bytes(rows, c.num_attention_heads, c.kv_lora_rank,
                                                           c.qk_rope_head_dim, threads);
  }
  const int64_t moe = rows * c.n_routed_experts + 5 * rows * k + 4 * c.n_routed_experts +
                      2 * rows * k * c.hidden_size + 2 * rows * k * c.moe_intermediate_size +
                      rows * c.hidden_size + 2 * rows * std::max<int64_t>(c.n_shared_experts, 1) * c.moe_intermediate_size;
  const int64_t dense = 2 * rows * c.intermediate_size;
  const uint64_t floats = static_cast<uint64_t>(step + layer + std::max({attention, moe, dense}));
  return floats * 8 + kernel_bytes + 64 * 64;  // 8: int64 and float arrays alike; alignment
}

uint64_t Model::scratch_bytes(int64_t rows, int64_t context) const {
  return forward_scratch_bytes(config_, rows, kernels::kernel_threads(), attention_form_, context);
}

Status Model::mtp_forward(std::span<const int32_t> next_tokens, const float* final_hidden,
                          KvCache& mtp_cache, std::vector<float>* draft_logits,
                          std::vector<float>* draft_hidden, bool last_row_logits) {
  if (!mtp_) return not_found("this model has no MTP module (num_nextn_predict_layers = 0)");
  return mtp_->forward(next_tokens, final_hidden, mtp_cache, context(), draft_logits, draft_hidden, last_row_logits);
}

}  // namespace moestream
