// The DeepSeek-V3 / V3.1 forward pass on CPU in float32 (docs/model-math.md §2): embedding, decoder
// layers, final norm, lm_head, and (when the checkpoint has one) the MTP draft module.
// Every size comes from the ModelConfig and the tensor shapes; weights come from a
// WeightSource and routed experts only through an ExpertProvider.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "format/model_config.h"
#include "kernels/weight_ref.h"
#include "platform/scratch_arena.h"
#include "platform/status.h"
#include "runtime/decoder_layer.h"
#include "runtime/expert_provider.h"
#include "runtime/kv_cache.h"
#include "runtime/mtp.h"
#include "runtime/rope.h"
#include "runtime/weight_source.h"

namespace moestream {

// Output of one forward step over T tokens; pass null for what you do not need.
struct ForwardOutputs {
  std::vector<float>* logits = nullptr;        // [T, vocab]
  std::vector<float>* final_hidden = nullptr;  // [T, hidden], after model.norm (MTP input)
  // Every row of the step, whatever each step's `output` says, after model.norm: the MTP
  // layer's input for a prompt whose logits are not wanted. [rows of all steps, hidden].
  std::vector<float>* every_hidden = nullptr;
};

// One sequence's share of a batched forward step (Model::forward_batch).
struct SequenceStep {
  enum class Rows { kNone, kLast, kAll };  // whose logits / final hidden states are wanted
  std::span<const int32_t> tokens;  // at positions [cache->size(), + tokens.size())
  KvCache* cache = nullptr;         // this sequence's own cache; distinct per step
  Rows output = Rows::kLast;
};

// The forward pass's scratch for a step of `rows` rows (all sequences together) on `threads`
// kernel threads: with the absorbed attention it does not depend on the context (the
// attention kernel sweeps the cache in blocks); the expanded reference re-expands up to
// `context` cached rows. The budget plan and `moestream plan` count activations with it.
uint64_t forward_scratch_bytes(const ModelConfig& config, int64_t rows, int64_t threads,
                               AttentionForm form = AttentionForm::kAbsorbed, int64_t context = 0);

class Model {
 public:
  static Result<std::unique_ptr<Model>> load(const WeightSource& source, ExpertProvider& experts);

  const ModelConfig& config() const { return config_; }
  const RotaryEmbedding& rope() const { return rope_; }
  // Time per kind of operation over every forward_batch so far (the caller's thread only).
  const OpTimes& op_times() const { return op_times_; }
  // The main model's compressed KV cache (num_hidden_layers layers).
  KvCache new_kv_cache(KvCachePrecision precision = KvCachePrecision::kF32) const;

  void set_attention_form(AttentionForm form) { attention_form_ = form; }
  // Called after each embedding row is read with the bytes of the table around it (the 64 KiB
  // window the kernel maps on a fault): the engine hands those pages back, so the table costs
  // a window of RSS, not every row a prompt ever touched.
  void set_embedding_release(std::function<void(const void* data, size_t bytes)> release) {
    embedding_release_ = std::move(release);
  }
  void set_routing_observer(RoutingObserver observer) { observer_ = std::move(observer); }
  // Pre-gating: after layer l's attention, layer l+1's router on the current hidden state
  // (normed with layer l+1's post-attention norm) names its likely experts (top-k + margin),
  // and the expert provider is told to prefetch them. margin < 0 turns it off (default).
  void set_prefetch_margin(int64_t margin, int64_t lookahead = 1);
  // Called with each pre-gating guess (layer, experts best first, their router affinity
  // averaged over the step's tokens) just before it goes to ExpertProvider::prefetch.
  using PregateObserver =
      std::function<void(int64_t layer, std::span<const int64_t> experts, std::span<const float> scores)>;
  void set_pregate_observer(PregateObserver observer) { pregate_observer_ = std::move(observer); }

  // Runs `tokens` at positions [cache.size(), cache.size() + T) and advances the cache.
  // A prompt in one call is prefill; one token per call is decode. Outputs every row.
  Status forward(std::span<const int32_t> tokens, KvCache& cache, const ForwardOutputs& outputs);
  // Continuous batching: every sequence's tokens in one step. The rows of all sequences go
  // through each layer together (attention per sequence over its own cache, each routed
  // expert acquired once per layer for all rows that picked it) and each cache advances.
  // Outputs hold the rows each step asks for, sequence by sequence, in order. With a
  // warmed-up scratch arena and reserved caches a decode step allocates nothing.
  Status forward_batch(std::span<const SequenceStep> steps, const ForwardOutputs& outputs);

  // The scratch a step of `rows` rows over contexts up to `context` tokens needs (the plan;
  // the arena grows past it once if a step needs more): forward_scratch_bytes for this
  // model's attention form and the kernel threads.
  uint64_t scratch_bytes(int64_t rows, int64_t context) const;
  const ScratchArena& scratch() const { return arena_; }

  // The MTP module (null when the checkpoint has none).
  const MtpModule* mtp() const { return mtp_.get(); }
  // Draft logits for rows paired (next_tokens[i], final_hidden row i) at positions
  // [mtp_cache.size(), +T) (docs/model-math.md §11); advances mtp_cache.
  Status mtp_forward(std::span<const int32_t> next_tokens, const float* final_hidden,
                     KvCache& mtp_cache, std::vector<float>* draft_logits,
                     std::vector<float>* draft_hidden = nullptr, bool last_row_logits = false);

 private:
  Model() = default;
  StepContext context() const;
  mutable OpTimes op_times_;

  ModelConfig config_;
  RotaryEmbedding rope_;
  ExpertProvider* experts_ = nullptr;
  AttentionForm attention_form_ = AttentionForm::kAbsorbed;
  RoutingObserver observer_;
  int64_t prefetch_margin_ = -1;
  std::function<void(int64_t, const float*, int64_t)> pregate_;
  PregateObserver pregate_observer_;
  std::vector<float> pregate_normed_, pregate_scores_;  // the pre-gate's working buffers
  std::vector<int64_t> pregate_predicted_;
  kernels::WeightRef embed_;
  std::function<void(const void*, size_t)> embedding_release_;
  std::vector<DecoderLayer> layers_;
  std::vector<float> final_norm_;
  kernels::WeightRef lm_head_;
  std::unique_ptr<MtpModule> mtp_;
  mutable ScratchArena arena_;  // one forward at a time (Model is not thread-safe)
};

// Copies embedding rows of `tokens` into out [T, hidden]; errors on ids outside the vocab.
// `release`, when set, gets the table's bytes around each row once it is read (see
// Model::set_embedding_release).
Status embed_tokens(const kernels::WeightRef& embedding, std::span<const int32_t> tokens,
                    float* out, const std::function<void(const void*, size_t)>& release = {});

}  // namespace moestream
