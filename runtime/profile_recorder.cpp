#include "runtime/profile_recorder.h"

#include <algorithm>
#include <cmath>

namespace moestream {

using trace::ExpertOutcome;

void ProfileRecorder::HintRecordingProvider::prefetch(int64_t layer, std::span<const int64_t> experts) {
  {
    std::lock_guard<std::mutex> lock(owner_.mutex_);
    owner_.hints_[layer].assign(experts.begin(), experts.end());
  }
  inner_.prefetch(layer, experts);
}

ProfileRecorder::ProfileRecorder(ExpertProvider& experts, trace::TraceHeader header)
    : hint_provider_(experts, *this), header_(std::move(header)) {}

RoutingObserver ProfileRecorder::observer() {
  return [this](int64_t layer, int64_t position, const RoutingDecision& decision) {
    on_routing(layer, position, decision);
  };
}

std::function<void(int64_t, std::span<const int64_t>, std::span<const float>)> ProfileRecorder::pregate_observer() {
  return [this](int64_t layer, std::span<const int64_t> experts, std::span<const float> scores) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& by_expert = hint_scores_[layer];
    by_expert.clear();
    for (size_t i = 0; i < experts.size() && i < scores.size(); ++i) by_expert[experts[i]] = scores[i];
  };
}

ExpertCacheEventListener ProfileRecorder::listener() {
  return [this](const ExpertCacheEvent& event) { on_event(event); };
}

void ProfileRecorder::begin_step(uint32_t sequence, trace::Phase phase) {
  std::lock_guard<std::mutex> lock(mutex_);
  sequence_ = sequence;
  phase_ = phase;
}

std::vector<trace::TraceRecord> ProfileRecorder::end_step() {
  std::lock_guard<std::mutex> lock(mutex_);
  close_batch_locked();
  std::vector<trace::TraceRecord> out = std::move(done_);
  done_.clear();
  std::stable_sort(out.begin(), out.end(), [](const trace::TraceRecord& a, const trace::TraceRecord& b) {
    return a.token < b.token;
  });
  return out;
}

void ProfileRecorder::on_routing(int64_t layer, int64_t position, const RoutingDecision& decision) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (batch_.layer != layer || batch_.pinned) {
    close_batch_locked();
    batch_.layer = layer;
    batch_prefetched_.clear();
    if (auto it = prefetch_started_.find(layer); it != prefetch_started_.end()) {
      batch_prefetched_ = std::move(it->second);
      prefetch_started_.erase(it);
    }
  }
  trace::TraceRecord r;
  r.sequence = sequence_;
  r.token = static_cast<uint32_t>(position);
  r.layer = static_cast<uint16_t>(layer - static_cast<int64_t>(header_.first_moe_layer));
  r.phase = phase_;
  const size_t record_index = batch_.records.size();
  for (size_t i = 0; i < decision.experts.size(); ++i) {
    const int64_t e = decision.experts[i];
    const float score = i < decision.scores.size() ? decision.scores[i] : std::nanf("");
    r.chosen.push_back({static_cast<uint16_t>(e), score, ExpertOutcome::kUnknown, 0});
    batch_.first_user.try_emplace(e, record_index, i);
  }
  for (size_t i = 0; i < header_.num_candidates && i < decision.candidates.size(); ++i) {
    r.candidates.push_back({static_cast<uint16_t>(decision.candidates[i]), decision.candidate_scores[i]});
  }
  // Scores from pregate_observer(), else NaN. No guess for this step: kNoPregateGuess.
  auto hint = hints_.find(layer);
  const auto& scores = hint_scores_[layer];
  for (size_t i = 0; i < header_.num_pregate; ++i) {
    if (hint == hints_.end() || hint->second.empty()) {
      r.pregate.push_back({0, kNoPregateGuess});
    } else {
      const auto& guess = hint->second;
      const int64_t e = guess[std::min(i, guess.size() - 1)];
      auto score = scores.find(e);
      r.pregate.push_back({static_cast<uint16_t>(e), score == scores.end() ? std::nanf("") : score->second});
    }
  }
  batch_.records.push_back(std::move(r));
}

void ProfileRecorder::on_event(const ExpertCacheEvent& event) {
  using Kind = ExpertCacheEvent::Kind;
  std::lock_guard<std::mutex> lock(mutex_);
  if (event.kind == Kind::kPrefetchStart) {
    prefetch_started_[event.layer].insert(event.expert);
    return;
  }
  if (event.kind == Kind::kPrefetchCancelled) {
    prefetch_started_[event.layer].erase(event.expert);
    return;
  }
  if (event.layer != batch_.layer) return;
  auto user = batch_.first_user.find(event.expert);
  if (user == batch_.first_user.end()) return;
  trace::ChosenExpert& c = batch_.records[user->second.first].chosen[user->second.second];
  switch (event.kind) {
    case Kind::kHit: c.outcome = ExpertOutcome::kHit; break;
    case Kind::kPrefetchHit: c.outcome = ExpertOutcome::kPrefetchHit; break;
    case Kind::kPrefetchLate: c.outcome = ExpertOutcome::kPrefetchLate; break;
    case Kind::kMiss: c.outcome = ExpertOutcome::kMiss; break;
    case Kind::kLoaded:
      if (event.demanded) {
        c.load_us = static_cast<uint32_t>(std::min<uint64_t>((event.latency_ns + 500) / 1000, UINT32_MAX));
      }
      return;
    default: return;
  }
  batch_.pinned = true;
}

void ProfileRecorder::close_batch_locked() {
  if (batch_.records.empty()) {
    batch_ = Batch();
    return;
  }
  hints_.erase(batch_.layer);
  hint_scores_.erase(batch_.layer);
  std::set<int64_t> used;
  for (trace::TraceRecord& r : batch_.records) {
    for (size_t i = 0; i < r.chosen.size(); ++i) {
      const auto& first = batch_.first_user.at(r.chosen[i].expert);
      const bool is_first = &batch_.records[first.first] == &r && first.second == i;
      // Later users of an expert the batch already brought in found it in RAM.
      if (!is_first) {
        const ExpertOutcome o = batch_.records[first.first].chosen[first.second].outcome;
        r.chosen[i].outcome = o == ExpertOutcome::kUnknown ? o : ExpertOutcome::kHit;
      }
      used.insert(r.chosen[i].expert);
    }
  }
  uint16_t wasted = 0;
  for (int64_t e : batch_prefetched_) wasted += used.count(e) ? 0 : 1;
  batch_.records.front().prefetch_wasted = wasted;
  for (trace::TraceRecord& r : batch_.records) done_.push_back(std::move(r));
  batch_ = Batch();
  batch_prefetched_.clear();
}

}  // namespace moestream
