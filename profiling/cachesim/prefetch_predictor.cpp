#include "profiling/cachesim/prefetch_predictor.h"

#include <algorithm>

namespace moestream::cachesim {

namespace {
struct PrefetchNames {
  PrefetchKind kind;
  std::string_view cli;
  std::string_view display;
};
constexpr PrefetchNames kNames[] = {
    {PrefetchKind::kNone, "none", "none"},
    {PrefetchKind::kOracleNextLayer, "oracle", "oracle next layer"},
    {PrefetchKind::kCoOccurrence, "cooccurrence", "co-occurrence"},
    {PrefetchKind::kPregate, "pregate", "pre-gating (recorded)"},
};
}  // namespace

std::string_view prefetch_name(PrefetchKind kind) {
  for (const auto& n : kNames)
    if (n.kind == kind) return n.cli;
  return "?";
}

std::string_view prefetch_display_name(PrefetchKind kind) {
  for (const auto& n : kNames)
    if (n.kind == kind) return n.display;
  return "?";
}

std::optional<PrefetchKind> parse_prefetch(std::string_view name) {
  for (const auto& n : kNames)
    if (n.cli == name) return n.kind;
  return std::nullopt;
}

void OracleNextLayerPredictor::predict(size_t step, uint32_t budget,
                                       std::vector<uint16_t>* out) const {
  const uint16_t* experts = trace_.step_experts(step);
  out->assign(experts, experts + std::min(budget, trace_.top_k));
}

void PregatePredictor::predict(size_t step, uint32_t budget, std::vector<uint16_t>* out) const {
  const uint16_t* guesses = trace_.pregate.data() + step * trace_.pregate_width;
  out->assign(guesses, guesses + std::min(budget, trace_.pregate_width));
}

}  // namespace moestream::cachesim
