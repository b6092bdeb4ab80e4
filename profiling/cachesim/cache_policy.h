// One expert cache under a replacement policy, as the simulator sees it: demand accesses
// to dense integer keys ((layer, expert) numbered 0..num_keys-1), a fixed capacity in
// experts, and a hit/miss answer. Each policy is one file (lru_policy.cpp, ...).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moestream::cachesim {

inline constexpr uint64_t kNeverUsedAgain = std::numeric_limits<uint64_t>::max();

struct Access {
  uint32_t key = 0;
  uint64_t next_use = kNeverUsedAgain;  // position of the next access to this key (OPT only)
  // The (token, layer) step this access belongs to: the runtime pins a step's experts while
  // it runs, so the runtime's policies (lru, lfu-decay) never evict one for another.
  uint64_t step = 0;
};

class CachePolicy {
 public:
  virtual ~CachePolicy() = default;
  // A demand access: true on a hit. On a miss the policy loads the key (possibly evicting
  // another) or, for policies that may bypass (static hot set, OPT), leaves the cache as is.
  virtual bool access(const Access& access) = 0;
  // Resident now? Does not count as a use.
  virtual bool contains(uint32_t key) const = 0;
};

// kStaticOracle is the static hot set chosen on the replayed trace itself (it knows the
// future counts, like OPT knows the future order): an offline reference, not a policy.
// kBeladyAdmit is OPT that must admit every miss (no bypass): the bound for policies that
// always admit (LRU, LFU, ARC); docs/profiling.md (worked example) sets it against Table A2.
enum class PolicyKind {
  kLru, kLfu, kDecayedLfu, kArc, kStaticHotSet, kStaticOracle, kBelady, kBeladyAdmit
};

std::string_view policy_name(PolicyKind kind);         // "lru", "lfu", ... (CLI spelling)
std::string_view policy_display_name(PolicyKind kind);  // "LRU", "LFU", ... (tables)
std::optional<PolicyKind> parse_policy(std::string_view name);
bool is_online(PolicyKind kind);  // everything but the OPTs and the static oracle

struct PolicyParams {
  double lfu_half_life_tokens = 32;        // decayed LFU
  double accesses_per_token = 1;           // of this one cache (k, or k x layers for a pool)
  std::vector<uint32_t> static_keys;       // static hot set: the pinned keys
};

std::unique_ptr<CachePolicy> make_policy(PolicyKind kind, uint32_t num_keys, uint32_t capacity,
                                         const PolicyParams& params);

}  // namespace moestream::cachesim
