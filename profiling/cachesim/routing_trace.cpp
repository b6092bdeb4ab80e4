#include "profiling/cachesim/routing_trace.h"

namespace moestream::cachesim {

Status RoutingTrace::validate() const {
  if (num_layers == 0 || num_experts == 0 || top_k == 0 || top_k > num_experts)
    return invalid_argument("routing trace: bad shape (layers " + std::to_string(num_layers) +
                            ", experts " + std::to_string(num_experts) + ", k " +
                            std::to_string(top_k) + ")");
  if (num_experts > 65535) return invalid_argument("routing trace: more than 65535 experts");
  if (step_token.size() != num_steps() || experts.size() != num_steps() * top_k)
    return internal_error("routing trace: per-step arrays disagree in length");
  if (token_phase.size() != num_tokens())
    return internal_error("routing trace: per-token arrays disagree in length");
  if (pregate.size() != num_steps() * pregate_width)
    return internal_error("routing trace: pregate array has the wrong length");
  if (layer_labels.size() != num_layers)
    return internal_error("routing trace: layer_labels has the wrong length");
  for (size_t s = 0; s < num_steps(); ++s) {
    if (step_layer[s] >= num_layers) return internal_error("routing trace: layer out of range");
    if (step_token[s] >= num_tokens() || (s && step_token[s] < step_token[s - 1]))
      return internal_error("routing trace: step tokens are not in order");
  }
  for (uint16_t e : experts)
    if (e >= num_experts) return internal_error("routing trace: expert id out of range");
  for (uint16_t e : pregate)
    if (e >= num_experts) return internal_error("routing trace: pregate id out of range");
  for (size_t t = 0; t < num_tokens(); ++t)
    if (token_sequence[t] >= num_sequences || (t && token_sequence[t] < token_sequence[t - 1]))
      return internal_error("routing trace: token sequences are not in order");
  return ok_status();
}

std::vector<size_t> token_step_offsets(const RoutingTrace& trace) {
  std::vector<size_t> offsets(trace.num_tokens() + 1, trace.num_steps());
  for (size_t s = trace.num_steps(); s-- > 0;) offsets[trace.step_token[s]] = s;
  // Tokens without steps start where the next token starts.
  for (size_t t = trace.num_tokens(); t-- > 0;)
    if (offsets[t] > offsets[t + 1]) offsets[t] = offsets[t + 1];
  return offsets;
}

std::vector<uint32_t> sequence_token_offsets(const RoutingTrace& trace) {
  std::vector<uint32_t> offsets(trace.num_sequences + 1,
                                static_cast<uint32_t>(trace.num_tokens()));
  for (size_t t = trace.num_tokens(); t-- > 0;)
    offsets[trace.token_sequence[t]] = static_cast<uint32_t>(t);
  for (size_t q = trace.num_sequences; q-- > 0;)
    if (offsets[q] > offsets[q + 1]) offsets[q] = offsets[q + 1];
  return offsets;
}

}  // namespace moestream::cachesim
