#include "profiling/cachesim/cache_policy.h"

#include <algorithm>

#include "profiling/cachesim/arc_policy.h"
#include "profiling/cachesim/belady_policy.h"
#include "profiling/cachesim/lfu_policy.h"
#include "offload/lfu_decay_cache_policy.h"
#include "offload/lru_cache_policy.h"
#include "profiling/cachesim/runtime_policy.h"
#include "profiling/cachesim/static_hot_set_policy.h"

namespace moestream::cachesim {

namespace {
struct PolicyNames {
  PolicyKind kind;
  std::string_view cli;
  std::string_view display;
};
constexpr PolicyNames kNames[] = {
    {PolicyKind::kLru, "lru", "LRU"},
    {PolicyKind::kLfu, "lfu", "LFU"},
    {PolicyKind::kDecayedLfu, "lfu-decay", "LFU-decay"},
    {PolicyKind::kArc, "arc", "ARC"},
    {PolicyKind::kStaticHotSet, "static", "static"},
    {PolicyKind::kStaticOracle, "static-oracle", "top-C"},
    {PolicyKind::kBelady, "opt", "OPT"},
    {PolicyKind::kBeladyAdmit, "opt-admit", "OPT-admit"},
};
}  // namespace

std::string_view policy_name(PolicyKind kind) {
  for (const auto& n : kNames)
    if (n.kind == kind) return n.cli;
  return "?";
}

std::string_view policy_display_name(PolicyKind kind) {
  for (const auto& n : kNames)
    if (n.kind == kind) return n.display;
  return "?";
}

std::optional<PolicyKind> parse_policy(std::string_view name) {
  for (const auto& n : kNames)
    if (n.cli == name) return n.kind;
  if (name == "belady") return PolicyKind::kBelady;
  return std::nullopt;
}

bool is_online(PolicyKind kind) {
  return kind != PolicyKind::kBelady && kind != PolicyKind::kBeladyAdmit &&
         kind != PolicyKind::kStaticOracle;
}

std::unique_ptr<CachePolicy> make_policy(PolicyKind kind, uint32_t num_keys, uint32_t capacity,
                                         const PolicyParams& params) {
  capacity = std::min(capacity, num_keys);
  switch (kind) {
    // LRU and decayed LFU are the runtime's own classes, so the simulator predicts it.
    case PolicyKind::kLru:
      return std::make_unique<RuntimePolicy>(std::make_unique<LruCachePolicy>(static_cast<int>(capacity)),
                                             num_keys, capacity);
    case PolicyKind::kLfu: return std::make_unique<LfuPolicy>(num_keys, capacity);
    case PolicyKind::kDecayedLfu: {
      CachePolicyOptions options;
      options.kind = "lfu";
      options.lfu_half_life_tokens = params.lfu_half_life_tokens;
      auto policy = make_cache_policy(options, static_cast<int>(capacity), params.accesses_per_token);
      if (!policy.ok()) return nullptr;  // a non-positive half-life; check_spec refuses it first
      return std::make_unique<RuntimePolicy>(std::move(policy).value(), num_keys, capacity);
    }
    case PolicyKind::kArc: return std::make_unique<ArcPolicy>(num_keys, capacity);
    case PolicyKind::kStaticHotSet:
    case PolicyKind::kStaticOracle:
      return std::make_unique<StaticHotSetPolicy>(num_keys, params.static_keys);
    case PolicyKind::kBelady: return std::make_unique<BeladyPolicy>(num_keys, capacity, true);
    case PolicyKind::kBeladyAdmit:
      return std::make_unique<BeladyPolicy>(num_keys, capacity, false);
  }
  return nullptr;
}

}  // namespace moestream::cachesim
