#include "runtime/decoder_layer.h"

#include <algorithm>

#include "platform/clock.h"
#include "runtime/linear.h"
#include "runtime/rms_norm.h"

namespace moestream {

Result<DecoderLayer> DecoderLayer::load(const WeightSource& source, const ModelConfig& config,
                                        int64_t layer) {
  DecoderLayer block;
  block.layer_ = layer;
  block.hidden_ = config.hidden_size;
  block.eps_ = config.rms_norm_eps;
  const std::string p = layer_prefix(layer);
  MOESTREAM_ASSIGN_OR_RETURN(block.input_norm_, load_vector(source, p + "input_layernorm.weight", block.hidden_));
  MOESTREAM_ASSIGN_OR_RETURN(block.post_attention_norm_,
                             load_vector(source, p + "post_attention_layernorm.weight", block.hidden_));
  MOESTREAM_ASSIGN_OR_RETURN(block.attention_, MlaAttention::load(source, config, layer));
  if (config.is_moe_layer(layer)) {
    MOESTREAM_ASSIGN_OR_RETURN(block.moe_, MoeLayer::load(source, config, layer));
  } else {
    MOESTREAM_ASSIGN_OR_RETURN(block.dense_, load_swiglu(source, p + "mlp.", block.hidden_,
                                                         config.intermediate_size));
  }
  return block;
}

Status DecoderLayer::forward(float* hidden, std::span<const SequenceRows> sequences,
                             const int64_t* positions, int64_t cache_layer,
                             const StepContext& context) const {
  ScratchArena& arena = *context.arena;
  ScratchArena::Scope scope(arena);
  const OpMark attention_start = context.mark();
  int64_t rows = 0;
  for (const SequenceRows& s : sequences) rows = std::max(rows, s.begin + s.count);
  const size_t size = static_cast<size_t>(rows * hidden_);
  float* normed = arena.take<float>(size);
  float* branch = arena.take<float>(size);
  rms_norm_rows(hidden, rows, input_norm_.data(), hidden_, eps_, normed);
  auto* segments = arena.take<MlaAttention::Segment>(sequences.size());
  for (size_t i = 0; i < sequences.size(); ++i) {
    const SequenceRows& s = sequences[i];
    segments[i] = {s.begin, s.count, s.start, s.cache};
  }
  attention_->forward(normed, rows, std::span<const MlaAttention::Segment>(segments, sequences.size()),
                      *context.rope, cache_layer, context.attention_form, branch, arena);
  for (size_t i = 0; i < size; ++i) hidden[i] += branch[i];
  if (context.after_attention && *context.after_attention) (*context.after_attention)(layer_, hidden, rows);
  const OpMark ffn_start = context.mark();
  if (context.op_times) context.op_times->attention.add(attention_start, ffn_start);

  rms_norm_rows(hidden, rows, post_attention_norm_.data(), hidden_, eps_, normed);
  if (moe_) {
    // Once the shared expert is done (this layer's routed reads are still in flight), the next
    // MoE layer is guessed again from attention + shared expert: closer to its input than the
    // guess after the attention alone, and its reads wait for this layer's anyway. (Guessing
    // again after each routed expert too raised precision 2 more points on issue 26's model
    // but not the speed: stopped reads.)
    struct GuessAgain {
      const DecoderLayer* layer;
      const float* hidden;
      size_t size;
      int64_t rows;
      const StepContext* context;
    } again{this, hidden, size, rows, &context};
    SharedOutputHook guess_again;
    if (context.after_attention && *context.after_attention) {
      // One captured reference fits std::function's inline storage: no allocation per step.
      guess_again = [&again](const float* shared_out) {
        thread_local std::vector<float> kept;
        std::vector<float> chunk;
        std::vector<float>& h = again.rows <= MoeLayer::kKeptGuessRows ? kept : chunk;
        h.assign(again.hidden, again.hidden + again.size);
        for (size_t i = 0; i < again.size; ++i) h[i] += shared_out[i];
        (*again.context->after_attention)(again.layer->layer_, h.data(), again.rows);
      };
    }
    MOESTREAM_TRY(moe_->forward(normed, rows, positions, *context.experts, context.routing_observer,
                                branch, arena, guess_again ? &guess_again : nullptr));
  } else {
    swiglu_ffn(*dense_, normed, rows, branch, arena);
  }
  for (size_t i = 0; i < size; ++i) hidden[i] += branch[i];
  if (context.op_times) (moe_ ? context.op_times->moe : context.op_times->dense_ffn).add(ffn_start, context.mark());
  return ok_status();
}

Status DecoderLayer::forward(float* hidden, int64_t tokens, int64_t start, KvCache& cache,
                             int64_t cache_layer, const StepContext& context) const {
  ScratchArena::Scope scope(*context.arena);
  int64_t* positions = context.arena->take<int64_t>(static_cast<size_t>(tokens));
  for (int64_t t = 0; t < tokens; ++t) positions[t] = start + t;
  const SequenceRows one{0, tokens, start, &cache};
  return forward(hidden, std::span<const SequenceRows>(&one, 1), positions, cache_layer, context);
}

void DecoderLayer::post_attention_norm(const float* x, int64_t tokens, float* out) const {
  rms_norm_rows(x, tokens, post_attention_norm_.data(), hidden_, eps_, out);
}

}  // namespace moestream
