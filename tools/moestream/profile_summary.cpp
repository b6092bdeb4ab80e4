#include "profile_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "platform/progress_bar.h"

namespace moestream::cli {
namespace {

using trace::ExpertOutcome;

int outcome_index(ExpertOutcome o) {
  switch (o) {
    case ExpertOutcome::kHit: return 0;
    case ExpertOutcome::kPrefetchHit: return 1;
    case ExpertOutcome::kPrefetchLate: return 2;
    case ExpertOutcome::kMiss: return 3;
    default: return 4;
  }
}

double ratio(uint64_t a, uint64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; }

}  // namespace

void ProfileSummary::add(const trace::TraceRecord& r) {
  const int p = r.phase == trace::Phase::kDecode ? 1 : 0;
  if (r.layer == 0) ++tokens_[p];
  ++steps_[p];
  bool resident = true;
  for (const trace::ChosenExpert& c : r.chosen) {
    const int o = outcome_index(c.outcome);
    ++outcomes_[p][o];
    resident = resident && o <= 1;
    if (o == 2 || o == 3) waits_us_.push_back(c.load_us);
  }
  if (resident) ++resident_steps_[p];
  wasted_for_step_ += r.prefetch_wasted;
  // Slot recall of pre-gating: chosen experts that were among the guesses.
  if (!r.pregate.empty() && !std::isinf(r.pregate.front().score)) {
    ++guessed_steps_;
    guessed_slots_ += r.chosen.size();
    for (const trace::ChosenExpert& c : r.chosen) {
      const bool guessed = std::any_of(r.pregate.begin(), r.pregate.end(),
                                       [&](const trace::ScoredExpert& g) { return g.expert == c.expert; });
      guessed_correct_ += guessed ? 1 : 0;
    }
  }
}

double ProfileSummary::hit_rate() const {
  uint64_t in_ram = 0, all = 0;
  for (int p = 0; p < 2; ++p) {
    in_ram += outcomes_[p][0] + outcomes_[p][1];
    for (int o = 0; o < 5; ++o) all += outcomes_[p][o];
  }
  return ratio(in_ram, all);
}

std::string ProfileSummary::format(const std::vector<LayerCacheStats>& cache_stats) const {
  std::string out = "profile summary\n";
  char line[512];
  const char* names[2] = {"prefill", "decode"};
  for (int p = 0; p < 2; ++p) {
    if (steps_[p] == 0) continue;
    const uint64_t* o = outcomes_[p];
    const uint64_t accesses = o[0] + o[1] + o[2] + o[3] + o[4];
    std::snprintf(line, sizeof(line),
                  "  %-7s %llu tokens: hit rate %.1f%% (%llu hits, %llu prefetch hits, %llu prefetch late, "
                  "%llu misses of %llu accesses), all-k-resident steps %.1f%%, demand loads/token %.2f\n",
                  names[p], static_cast<unsigned long long>(tokens_[p]), 100.0 * ratio(o[0] + o[1], accesses),
                  static_cast<unsigned long long>(o[0]), static_cast<unsigned long long>(o[1]),
                  static_cast<unsigned long long>(o[2]), static_cast<unsigned long long>(o[3]),
                  static_cast<unsigned long long>(accesses), 100.0 * ratio(resident_steps_[p], steps_[p]),
                  ratio(o[2] + o[3], tokens_[p]));
    out += line;
  }
  const LayerCacheStats total = total_of(cache_stats);
  const uint64_t tokens = this->tokens();
  std::snprintf(line, sizeof(line), "  reads per token: %.2f experts (%.2f demand + %.2f prefetch), %s\n",
                ratio(total.misses + total.prefetches, tokens), ratio(total.misses, tokens),
                ratio(total.prefetches, tokens),
                format_bytes(static_cast<uint64_t>(ratio(total.bytes_read, tokens))).c_str());
  out += line;
  if (guessed_steps_ > 0 || total.prefetches > 0) {
    std::snprintf(line, sizeof(line),
                  "  prefetch: slot recall %.1f%% (%llu of %llu chosen experts were guessed, %llu steps), "
                  "%llu of %llu prefetch reads not used by their step (%.1f%%), %llu evicted unused\n",
                  100.0 * ratio(guessed_correct_, guessed_slots_), static_cast<unsigned long long>(guessed_correct_),
                  static_cast<unsigned long long>(guessed_slots_), static_cast<unsigned long long>(guessed_steps_),
                  static_cast<unsigned long long>(wasted_for_step_), static_cast<unsigned long long>(total.prefetches),
                  100.0 * ratio(wasted_for_step_, total.prefetches),
                  static_cast<unsigned long long>(total.wasted_prefetches));
    out += line;
  }
  if (!waits_us_.empty()) {
    std::vector<uint32_t> w = waits_us_;
    std::sort(w.begin(), w.end());
    uint64_t sum = 0;
    for (uint32_t v : w) sum += v;
    auto pct = [&](double q) { return w[std::min(w.size() - 1, static_cast<size_t>(q * static_cast<double>(w.size())))]; };
    std::snprintf(line, sizeof(line), "  load wait (misses and late prefetches, %zu loads): mean %.0f us, p50 %u us, p99 %u us\n",
                  w.size(), ratio(sum, w.size()), pct(0.50), pct(0.99));
    out += line;
  }
  return out;
}

}  // namespace moestream::cli
