#include "text/grammar/grammar_automaton.h"

#include <doctest/doctest.h>

#include "text/grammar/grammar_test_support.h"

namespace moestream {
namespace {

using testing::grammar_accepts;

TEST_CASE("grammar automaton: literals, alternatives and repetition") {
  Grammar g;
  // root ::= "ab" digits ("x" | "yz")   digits ::= [0-9]{1,3}
  const uint32_t digits = g.repeat({g.byte_range('0', '9')}, 1, 3);
  auto seq = g.literal("ab");
  seq.push_back(Grammar::ref(digits));
  seq.push_back(Grammar::ref(g.rule("end", {g.literal("x"), g.literal("yz")})));
  g.set_root(g.rule("root", {seq}));
  GrammarAutomaton a(g);
  CHECK(grammar_accepts(a, "ab1x"));
  CHECK(grammar_accepts(a, "ab123yz"));
  CHECK_FALSE(grammar_accepts(a, "ab1234x"));
  CHECK_FALSE(grammar_accepts(a, "abx"));
  CHECK_FALSE(grammar_accepts(a, "ab1y"));
  CHECK_FALSE(grammar_accepts(a, "ab1xz"));
  CHECK(a.complete(a.advance(a.start(), "ab1x", 4)));
  // Shortest completions: "ab" + 1 digit + "x" from the start, 2 after "ab1y".
  CHECK(a.distance(a.start()) == 4);
  CHECK(a.distance(a.advance(a.start(), "ab1y", 4)) == 1);
  CHECK(a.distance(a.advance(a.start(), "ab", 2)) == 2);
}

TEST_CASE("grammar automaton: a long repetition reuses its states (tail calls)") {
  Grammar g;
  const uint32_t many = g.star({g.byte('a')});
  g.set_root(g.rule("root", {{Grammar::ref(many), g.byte('b')}}));
  GrammarAutomaton a(g);
  int32_t s = a.start();
  for (int i = 0; i < 10000; ++i) s = a.next(s, 'a');
  REQUIRE(s >= 0);
  CHECK(a.state_count() <= 3);
  s = a.next(s, 'b');
  CHECK(a.complete(s));
}

TEST_CASE("grammar automaton: ambiguous alternatives keep every reading, special tokens, left recursion found") {
  Grammar g;
  const uint32_t ab = g.rule("ab", {g.literal("abc"), g.literal("abd")});
  g.set_root(g.rule("root", {{Grammar::ref(ab), Grammar::token(7)}}));
  GrammarAutomaton a(g);
  const int32_t s = a.advance(a.start(), "abd", 3);
  REQUIRE(s >= 0);
  CHECK_FALSE(a.accepting(s));
  CHECK(a.next_token(s, 8) == GrammarAutomaton::kDead);
  CHECK(a.complete(a.next_token(s, 7)));

  Grammar bad;
  const uint32_t r = bad.new_rule("loop");
  bad.add_alternative(r, {Grammar::ref(r), bad.byte('a')});
  bad.set_root(r);
  CHECK(bad.left_recursive_rule() == "loop");
  GrammarAutomaton survives(bad);  // the depth guard, not a crash
  CHECK(survives.start() == GrammarAutomaton::kDead);
}

}  // namespace
}  // namespace moestream
