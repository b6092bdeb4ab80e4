// Grammar rules for JSON numbers within bounds: exact decimal ranges of integers (the digit
// strings between two bounds, split by width and by first differing digit), and numbers with
// a fraction whose whole part keeps any fraction inside the bounds. Magnitudes stay below
// 10^15 (exact in a double), fractions at most 15 digits, no exponent: a finite, unambiguous
// language that a model cannot run away in.
#pragma once

#include <cstdint>
#include <optional>

#include "platform/status.h"
#include "text/grammar/grammar.h"

namespace moestream {

inline constexpr int64_t kMaxGrammarInteger = 999'999'999'999'999;  // 15 digits

struct NumberBounds {
  std::optional<double> minimum, maximum;
  bool exclusive_minimum = false, exclusive_maximum = false;
};

// The integers in [lo, hi] (lo <= hi, both within +-kMaxGrammarInteger) in JSON form.
uint32_t integer_range_rule(Grammar& g, int64_t lo, int64_t hi);

// A rule for a JSON integer or number within the bounds; kInvalidArgument when no value the
// grammar can write lies within them (e.g. a number between 0.2 and 0.8), naming the keyword.
Result<uint32_t> number_rule(Grammar& g, bool integer, const NumberBounds& bounds);

}  // namespace moestream
