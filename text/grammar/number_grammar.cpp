#include "text/grammar/number_grammar.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace moestream {
namespace {

GrammarElement digit(Grammar& g) { return g.byte_range('0', '9'); }

// Digit strings of one width between lo and hi inclusive (leading zeros allowed).
Grammar::Sequence digits_between(Grammar& g, const std::string& lo, const std::string& hi) {
  Grammar::Sequence seq;
  size_t i = 0;
  while (i < lo.size() && lo[i] == hi[i]) seq.push_back(g.byte(static_cast<uint8_t>(lo[i++])));
  if (i == lo.size()) return seq;
  const size_t k = lo.size() - i - 1;
  const std::string lo_rest = lo.substr(i + 1), hi_rest = hi.substr(i + 1);
  const bool low_full = lo_rest.find_first_not_of('0') == std::string::npos;
  const bool high_full = hi_rest.find_first_not_of('9') == std::string::npos;
  const char first = low_full ? lo[i] : static_cast<char>(lo[i] + 1);
  const char last = high_full ? hi[i] : static_cast<char>(hi[i] - 1);
  std::vector<Grammar::Sequence> alts;
  if (!low_full) {
    Grammar::Sequence a{g.byte(static_cast<uint8_t>(lo[i]))};
    const auto rest = digits_between(g, lo_rest, std::string(k, '9'));
    a.insert(a.end(), rest.begin(), rest.end());
    alts.push_back(std::move(a));
  }
  if (first <= last) {
    Grammar::Sequence a{g.byte_range(static_cast<uint8_t>(first), static_cast<uint8_t>(last))};
    for (size_t j = 0; j < k; ++j) a.push_back(digit(g));
    alts.push_back(std::move(a));
  }
  if (!high_full) {
    Grammar::Sequence a{g.byte(static_cast<uint8_t>(hi[i]))};
    const auto rest = digits_between(g, std::string(k, '0'), hi_rest);
    a.insert(a.end(), rest.begin(), rest.end());
    alts.push_back(std::move(a));
  }
  if (alts.size() == 1) {
    seq.insert(seq.end(), alts[0].begin(), alts[0].end());
  } else {
    seq.push_back(Grammar::ref(g.rule("digits", std::move(alts))));
  }
  return seq;
}

int64_t power10(int w) {
  int64_t p = 1;
  for (int i = 0; i < w; ++i) p *= 10;
  return p;
}

// Non-negative integers in [a, b] without leading zeros: one alternative per width.
std::vector<Grammar::Sequence> unsigned_range(Grammar& g, int64_t a, int64_t b) {
  std::vector<Grammar::Sequence> alts;
  const int wa = static_cast<int>(std::to_string(a).size()), wb = static_cast<int>(std::to_string(b).size());
  for (int w = wa; w <= wb; ++w) {
    const int64_t lo = std::max(a, w == 1 ? 0 : power10(w - 1));
    const int64_t hi = std::min(b, power10(w) - 1);
    if (lo <= hi) alts.push_back(digits_between(g, std::to_string(lo), std::to_string(hi)));
  }
  return alts;
}

std::vector<Grammar::Sequence> signed_range(Grammar& g, int64_t lo, int64_t hi) {
  std::vector<Grammar::Sequence> alts;
  if (lo > hi) return alts;
  if (lo < 0) {
    const int64_t mag_lo = hi >= 0 ? 1 : -hi, mag_hi = -lo;
    for (auto& a : unsigned_range(g, mag_lo, mag_hi)) {
      a.insert(a.begin(), g.byte('-'));
      alts.push_back(std::move(a));
    }
  }
  if (hi >= 0) {
    for (auto& a : unsigned_range(g, std::max<int64_t>(lo, 0), hi)) alts.push_back(std::move(a));
  }
  return alts;
}

int64_t clamp_bound(double v) {
  const auto cap = static_cast<double>(kMaxGrammarInteger);
  return static_cast<int64_t>(std::clamp(v, -cap, cap));
}

}  // namespace

uint32_t integer_range_rule(Grammar& g, int64_t lo, int64_t hi) {
  return g.rule("integer", signed_range(g, lo, hi));
}

Result<uint32_t> number_rule(Grammar& g, bool integer, const NumberBounds& b) {
  const auto cap = static_cast<double>(kMaxGrammarInteger);
  const double lo = b.minimum.value_or(-cap - 1), hi = b.maximum.value_or(cap + 1);
  if (std::isnan(lo) || std::isnan(hi)) return invalid_argument("minimum/maximum: not a number");
  // The integers within the bounds.
  double ilo = std::ceil(lo), ihi = std::floor(hi);
  if (b.exclusive_minimum && ilo == lo) ilo += 1;
  if (b.exclusive_maximum && ihi == hi) ihi -= 1;
  ilo = std::max(ilo, -cap);
  ihi = std::min(ihi, cap);
  std::vector<Grammar::Sequence> alts;
  if (ilo <= ihi) alts = signed_range(g, clamp_bound(ilo), clamp_bound(ihi));
  if (!integer) {
    // W.f with f > 0 lies strictly between W and W + 1 (and -W.f between -(W + 1) and -W):
    // allowed for the whole parts whose open unit interval lies within the bounds.
    Grammar::Sequence frac{g.byte('.')};
    frac.push_back(Grammar::ref(g.repeat({digit(g)}, 0, 14, "fraction")));
    frac.push_back(g.byte_range('1', '9'));
    const double plo = std::max(0.0, std::ceil(lo)), phi = std::min(cap, std::floor(hi) - 1);
    if (plo <= phi) {
      for (auto& a : unsigned_range(g, clamp_bound(plo), clamp_bound(phi))) {
        a.insert(a.end(), frac.begin(), frac.end());
        alts.push_back(std::move(a));
      }
    }
    const double nlo = std::max(0.0, std::ceil(-hi)), nhi = std::min(cap, std::floor(-lo) - 1);
    if (nlo <= nhi) {
      for (auto& a : unsigned_range(g, clamp_bound(nlo), clamp_bound(nhi))) {
        a.insert(a.begin(), g.byte('-'));
        a.insert(a.end(), frac.begin(), frac.end());
        alts.push_back(std::move(a));
      }
    }
  }
  if (alts.empty()) {
    return invalid_argument(std::string("minimum/maximum: no ") + (integer ? "integer" : "number") +
                            " this engine can write lies within the bounds");
  }
  return g.rule(integer ? "integer" : "number", std::move(alts));
}

}  // namespace moestream
