#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>
#include <vector>

namespace moestream {

Status SamplingParams::check() const {
  if (!(temperature >= 0.0) || !std::isfinite(temperature)) {
    return invalid_argument("temperature must be >= 0");
  }
  if (top_k < 0) return invalid_argument("top-k must be >= 0");
  if (!(top_p > 0.0 && top_p <= 1.0)) return invalid_argument("top-p must be in (0, 1]");
  if (!(min_p >= 0.0 && min_p <= 1.0)) return invalid_argument("min-p must be in [0, 1]");
  if (!(repetition_penalty > 0.0)) return invalid_argument("repetition penalty must be > 0");
  if (!(frequency_penalty >= -2.0 && frequency_penalty <= 2.0)) return invalid_argument("frequency_penalty must be in [-2, 2]");
  if (!(presence_penalty >= -2.0 && presence_penalty <= 2.0)) return invalid_argument("presence_penalty must be in [-2, 2]");
  return ok_status();
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

double Sampler::next_uniform() {
  return static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0);  // 53 random bits
}

TokenDistribution Sampler::distribution(std::span<const float> logits, std::span<const int32_t> history) const {
  const int64_t n = static_cast<int64_t>(logits.size());
  if (params_.temperature <= 0.0 && params_.repetition_penalty == 1.0 && params_.frequency_penalty == 0.0 &&
      params_.presence_penalty == 0.0) {
    // Plain greedy: the first largest logit, as the general path below picks it.
    return {{{static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin()), 1.0}}};
  }
  std::vector<double> z(logits.begin(), logits.end());
  if (params_.repetition_penalty != 1.0) {
    std::vector<bool> seen(static_cast<size_t>(n), false);
    for (int32_t t : history) {
      if (t < 0 || t >= n || seen[t]) continue;
      seen[t] = true;
      z[t] = z[t] > 0 ? z[t] / params_.repetition_penalty : z[t] * params_.repetition_penalty;
    }
  }
  if (params_.frequency_penalty != 0.0 || params_.presence_penalty != 0.0) {
    std::unordered_map<int32_t, int64_t> counts;
    for (size_t i = generated_start_; i < history.size(); ++i) {
      if (history[i] >= 0 && history[i] < n) ++counts[history[i]];
    }
    for (const auto& [token, count] : counts) {
      z[token] -= params_.frequency_penalty * static_cast<double>(count) + params_.presence_penalty;
    }
  }
  if (params_.temperature <= 0.0) {
    return {{{static_cast<int32_t>(std::max_element(z.begin(), z.end()) - z.begin()), 1.0}}};
  }
  // Candidates sorted by logit, highest first (ties: lower id first).
  std::vector<int32_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return z[a] > z[b]; });
  size_t keep = order.size();
  if (params_.top_k > 0) keep = std::min<size_t>(keep, static_cast<size_t>(params_.top_k));
  std::vector<double> probs(keep);
  const double max_z = z[order[0]];
  double sum = 0.0;
  for (size_t i = 0; i < keep; ++i) {
    probs[i] = std::exp((z[order[i]] - max_z) / params_.temperature);
    sum += probs[i];
  }
  for (double& p : probs) p /= sum;
  if (params_.min_p > 0.0) {
    const double floor = params_.min_p * probs[0];
    size_t k = 1;
    while (k < keep && probs[k] >= floor) ++k;
    keep = k;
  }
  if (params_.top_p < 1.0) {
    double cumulative = 0.0;
    size_t k = 0;
    while (k < keep) {
      cumulative += probs[k++];
      if (cumulative >= params_.top_p) break;
    }
    keep = k;
  }
  TokenDistribution d;
  d.entries.reserve(keep);
  for (size_t i = 0; i < keep; ++i) d.entries.push_back({order[i], probs[i]});
  return d;
}

int32_t Sampler::draw(const TokenDistribution& d) {
  if (d.entries.size() == 1) return d.entries[0].token;  // greedy: no random number drawn
  double kept_mass = 0.0;
  for (const TokenProbability& e : d.entries) kept_mass += e.weight;
  const double target = next_uniform() * kept_mass;
  double cumulative = 0.0;
  for (const TokenProbability& e : d.entries) {
    cumulative += e.weight;
    if (target < cumulative) return e.token;
  }
  return d.entries.back().token;
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  return draw(distribution(logits, history));
}

double TokenDistribution::probability(int32_t token) const {
  double mass = 0.0, p = 0.0;
  for (const TokenProbability& e : entries) {
    mass += e.weight;
    if (e.token == token) p = e.weight;
  }
  return mass > 0 ? p / mass : 0.0;
}

}  // namespace moestream
