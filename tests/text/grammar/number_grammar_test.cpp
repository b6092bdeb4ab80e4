#include "text/grammar/number_grammar.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "text/grammar/grammar_test_support.h"

namespace moestream {
namespace {

using testing::grammar_accepts;

GrammarAutomaton number_automaton(bool integer, const NumberBounds& b) {
  Grammar g;
  auto r = number_rule(g, integer, b);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  g.set_root(*r);
  return GrammarAutomaton(g);
}

TEST_CASE("number grammar: integer ranges accept exactly the integers within them") {
  const std::pair<int64_t, int64_t> ranges[] = {{0, 0}, {-5, 5}, {7, 123}, {-250, -19}, {99, 1000}, {-1, 10}, {13, 13}};
  for (const auto& [lo, hi] : ranges) {
    Grammar g;
    g.set_root(integer_range_rule(g, lo, hi));
    GrammarAutomaton a(g);
    for (int64_t v = -1200; v <= 1200; ++v) {
      INFO(lo << ".." << hi << " value " << v);
      CHECK(grammar_accepts(a, std::to_string(v)) == (v >= lo && v <= hi));
    }
    CHECK_FALSE(grammar_accepts(a, "007"));
    CHECK_FALSE(grammar_accepts(a, "-0"));
  }
}

TEST_CASE("number grammar: bounded numbers stay within their bounds, exclusive bounds too") {
  NumberBounds b;
  b.minimum = -2.5;
  b.maximum = 3;
  b.exclusive_maximum = true;
  GrammarAutomaton a = number_automaton(false, b);
  for (const char* ok : {"0", "-2", "2", "2.999", "-1.5", "0.25", "-0.5"}) CHECK_MESSAGE(grammar_accepts(a, ok), ok);
  for (const char* bad : {"3", "3.0", "-3", "-2.7", "1.", "1.50", "01", "4", "1e2"}) CHECK_MESSAGE(!grammar_accepts(a, bad), bad);
  // Every accepted number of a sweep lies within the bounds.
  for (int i = -400; i <= 400; ++i) {
    const double v = i / 100.0;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    std::string s = buf;
    while (s.find('.') != std::string::npos && (s.back() == '0' || s.back() == '.')) s.pop_back();
    if (s == "-0") s.erase(0, 1);
    if (grammar_accepts(a, s)) CHECK_MESSAGE((v >= -2.5 && v < 3), s);
  }
  NumberBounds integer;
  integer.minimum = 1;
  integer.exclusive_minimum = true;
  integer.maximum = 1e30;  // beyond the grammar's 15 digits: capped
  GrammarAutomaton i = number_automaton(true, integer);
  CHECK_FALSE(grammar_accepts(i, "1"));
  CHECK(grammar_accepts(i, "2"));
  CHECK(grammar_accepts(i, "999999999999999"));
  CHECK_FALSE(grammar_accepts(i, "1000000000000000"));
  CHECK_FALSE(grammar_accepts(i, "2.5"));

  Grammar g;
  NumberBounds narrow;
  narrow.minimum = 0.2;
  narrow.maximum = 0.8;
  CHECK_FALSE(number_rule(g, false, narrow).ok());  // no value this grammar can write
}

}  // namespace
}  // namespace moestream
