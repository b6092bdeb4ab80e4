#include "text/grammar/regex_grammar.h"

#include <string>
#include <vector>

namespace moestream {
namespace {

constexpr int64_t kMaxRepeat = 1000;

struct Piece {
  Grammar::Sequence seq;
  bool nullable = false;
};

class PatternParser {
 public:
  PatternParser(JsonTextRules& text, std::string_view p) : t_(text), g_(text.grammar()), p_(p) {}

  Result<uint32_t> parse() {
    bool anchored_start = false, anchored_end = false;
    if (!p_.empty() && p_.front() == '^') {
      anchored_start = true;
      p_.remove_prefix(1);
    }
    if (!p_.empty() && p_.back() == '$' && (p_.size() < 2 || p_[p_.size() - 2] != '\\')) {
      anchored_end = true;
      p_.remove_suffix(1);
    }
    auto body = alternation(0);
    if (!body.ok()) return body.status();
    if (i_ != p_.size()) return fail("unbalanced ')'");
    Grammar::Sequence seq;
    const uint32_t any = g_.star({Grammar::ref(t_.string_char())}, "any");
    if (!anchored_start) seq.push_back(Grammar::ref(any));
    seq.insert(seq.end(), body->seq.begin(), body->seq.end());
    if (!anchored_end) seq.push_back(Grammar::ref(any));
    return g_.rule("pattern", {seq});
  }

 private:
  Status fail(const std::string& why) const {
    return invalid_argument("pattern: " + why + " (at offset " + std::to_string(i_) + ")");
  }
  bool more() const { return i_ < p_.size(); }
  char peek() const { return p_[i_]; }

  Result<Piece> alternation(int depth) {
    if (depth > 50) return fail("groups nested too deeply");
    std::vector<Piece> alts;
    for (;;) {
      auto c = concatenation(depth);
      if (!c.ok()) return c.status();
      alts.push_back(std::move(*c));
      if (more() && peek() == '|') {
        ++i_;
        continue;
      }
      break;
    }
    if (alts.size() == 1) return std::move(alts[0]);
    Piece out;
    std::vector<Grammar::Sequence> seqs;
    for (auto& a : alts) {
      out.nullable = out.nullable || a.nullable;
      seqs.push_back(std::move(a.seq));
    }
    out.seq = {Grammar::ref(g_.rule("alt", std::move(seqs)))};
    return out;
  }

  Result<Piece> concatenation(int depth) {
    Piece out;
    out.nullable = true;
    while (more() && peek() != '|' && peek() != ')') {
      auto a = atom(depth);
      if (!a.ok()) return a.status();
      auto q = quantified(std::move(*a));
      if (!q.ok()) return q.status();
      out.seq.insert(out.seq.end(), q->seq.begin(), q->seq.end());
      out.nullable = out.nullable && q->nullable;
    }
    return out;
  }

  Result<int64_t> number() {
    int64_t v = 0;
    const size_t start = i_;
    while (more() && peek() >= '0' && peek() <= '9') {
      v = v * 10 + (peek() - '0');
      if (v > 1'000'000) return fail("repeat count too large");
      ++i_;
    }
    if (i_ == start) return fail("expected a number in {}");
    return v;
  }

  Result<Piece> quantified(Piece a) {
    if (!more()) return a;
    int64_t lo = 0, hi = 0;
    const char c = peek();
    if (c == '*') {
      lo = 0, hi = -1;
    } else if (c == '+') {
      lo = 1, hi = -1;
    } else if (c == '?') {
      lo = 0, hi = 1;
    } else if (c == '{') {
      ++i_;
      auto n = number();
      if (!n.ok()) return n.status();
      lo = hi = *n;
      if (more() && peek() == ',') {
        ++i_;
        hi = -1;
        if (more() && peek() != '}') {
          auto m = number();
          if (!m.ok()) return m.status();
          hi = *m;
        }
      }
      if (!more() || peek() != '}') return fail("expected '}'");
      if (hi >= 0 && hi < lo) return fail("repeat {n,m} with m < n");
    } else {
      return a;
    }
    ++i_;
    if (more() && (peek() == '?' || peek() == '+')) ++i_;  // lazy or possessive: the same language
    if (lo > kMaxRepeat || hi > kMaxRepeat) return fail("repeat count above " + std::to_string(kMaxRepeat));
    if (a.nullable && hi != 1) return fail("a repeated part that can match nothing");
    Piece out;
    out.nullable = lo == 0 || a.nullable;
    if (lo == 0 && hi == 1) {
      out.seq = {Grammar::ref(g_.optional(a.seq))};
    } else {
      out.seq = {Grammar::ref(g_.repeat(a.seq, lo, hi))};
    }
    return out;
  }

  // The UTF-8 bytes of one character starting at i_ (a literal).
  std::string utf8_char() {
    const auto lead = static_cast<uint8_t>(peek());
    size_t n = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    n = std::min(n, p_.size() - i_);
    std::string s(p_.substr(i_, n));
    i_ += n;
    return s;
  }

  static void add_range(CharClass& c, unsigned a, unsigned b) {
    for (unsigned x = a; x <= b && x < 128; ++x) c.ascii.set(x);
  }
  static CharClass shorthand(char k) {
    CharClass c;
    const char lower = static_cast<char>(k | 0x20);
    if (lower == 'd') add_range(c, '0', '9');
    if (lower == 'w') {
      add_range(c, '0', '9');
      add_range(c, 'a', 'z');
      add_range(c, 'A', 'Z');
      c.ascii.set('_');
    }
    if (lower == 's') {
      for (char x : std::string(" \t\n\r\f\v")) c.ascii.set(static_cast<uint8_t>(x));
    }
    if (k != lower) {  // \D \W \S: the complement, every non-ASCII character included
      c.ascii.flip();
      c.any_non_ascii = true;
    }
    return c;
  }

  // After a backslash: a shorthand class or one literal character.
  Result<CharClass> escape() {
    if (!more()) return fail("trailing backslash");
    const char e = peek();
    ++i_;
    if (std::string("dDwWsS").find(e) != std::string::npos) return shorthand(e);
    CharClass c;
    auto single = [&](unsigned v) {
      c.ascii.set(v);
      return c;
    };
    switch (e) {
      case 'n': return single('\n');
      case 't': return single('\t');
      case 'r': return single('\r');
      case 'f': return single('\f');
      case 'v': return single('\v');
      case '0': return single(0);
      case 'x':
      case 'u': {
        const size_t n = e == 'x' ? 2 : 4;
        if (i_ + n > p_.size()) return fail("short \\" + std::string(1, e) + " escape");
        unsigned v = 0;
        for (size_t k = 0; k < n; ++k) {
          const char h = p_[i_ + k];
          const int d = h >= '0' && h <= '9' ? h - '0' : (h | 0x20) >= 'a' && (h | 0x20) <= 'f' ? (h | 0x20) - 'a' + 10 : -1;
          if (d < 0) return fail("bad hex digit in escape");
          v = v * 16 + static_cast<unsigned>(d);
        }
        i_ += n;
        if (v < 128) return single(v);
        if (v >= 0xD800 && v <= 0xDFFF) return fail("surrogate escape");
        std::string s;
        if (v < 0x800) {
          s += static_cast<char>(0xC0 | (v >> 6));
        } else {
          s += static_cast<char>(0xE0 | (v >> 12));
          s += static_cast<char>(0x80 | ((v >> 6) & 0x3F));
        }
        s += static_cast<char>(0x80 | (v & 0x3F));
        c.non_ascii.push_back(s);
        return c;
      }
      case 'b':
      case 'B': return fail("word boundaries are not supported");
      default:
        if (e >= '1' && e <= '9') return fail("backreferences are not supported");
        if (static_cast<uint8_t>(e) >= 0x80 || (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
          return fail(std::string("unknown escape \\") + e);
        }
        return single(static_cast<uint8_t>(e));  // \. \\ \- \/ and other punctuation
    }
  }

  Result<CharClass> char_class() {
    CharClass c;
    bool negate = false;
    if (more() && peek() == '^') {
      negate = true;
      ++i_;
    }
    bool first = true;
    while (more() && (peek() != ']' || first)) {
      first = false;
      CharClass item;
      int lo = -1;  // the ASCII value when the item is one ASCII character
      if (peek() == '\\') {
        ++i_;
        auto e = escape();
        if (!e.ok()) return e.status();
        item = *e;
        if (item.ascii.count() == 1 && !item.any_non_ascii && item.non_ascii.empty()) {
          for (int x = 0; x < 128; ++x) {
            if (item.ascii.test(static_cast<size_t>(x))) lo = x;
          }
        }
      } else if (static_cast<uint8_t>(peek()) >= 0x80) {
        item.non_ascii.push_back(utf8_char());
        if (i_ + 1 < p_.size() && peek() == '-' && p_[i_ + 1] != ']') {
          return fail("ranges of non-ASCII characters are not supported");
        }
      } else {
        lo = static_cast<uint8_t>(peek());
        item.ascii.set(static_cast<size_t>(lo));
        ++i_;
      }
      if (lo >= 0 && i_ + 1 < p_.size() && peek() == '-' && p_[i_ + 1] != ']') {
        ++i_;
        int hi = -1;
        if (peek() == '\\') {
          ++i_;
          auto e = escape();
          if (!e.ok()) return e.status();
          if (e->ascii.count() != 1 || e->any_non_ascii) return fail("bad range end in []");
          for (int x = 0; x < 128; ++x) {
            if (e->ascii.test(static_cast<size_t>(x))) hi = x;
          }
        } else if (static_cast<uint8_t>(peek()) >= 0x80) {
          return fail("ranges of non-ASCII characters are not supported");
        } else {
          hi = static_cast<uint8_t>(peek());
          ++i_;
        }
        if (hi < lo) return fail("range out of order in []");
        add_range(item, static_cast<unsigned>(lo), static_cast<unsigned>(hi));
      }
      c.ascii |= item.ascii;
      c.any_non_ascii = c.any_non_ascii || item.any_non_ascii;
      c.non_ascii.insert(c.non_ascii.end(), item.non_ascii.begin(), item.non_ascii.end());
    }
    if (!more()) return fail("unclosed '['");
    ++i_;  // ']'
    if (negate) {
      if (!c.non_ascii.empty()) return fail("negated classes with non-ASCII characters are not supported");
      c.ascii.flip();
      c.any_non_ascii = !c.any_non_ascii;
    }
    return c;
  }

  Result<Piece> from_class(const CharClass& c) {
    auto seq = t_.char_of(c);
    if (!seq) return fail("a class that matches no character");
    return Piece{std::move(*seq), false};
  }

  Result<Piece> atom(int depth) {
    const char c = peek();
    if (c == '(') {
      ++i_;
      if (more() && peek() == '?') {
        ++i_;
        if (more() && peek() == ':') {
          ++i_;
        } else if (more() && peek() == '<' && i_ + 1 < p_.size() && p_[i_ + 1] != '=' && p_[i_ + 1] != '!') {
          const size_t close = p_.find('>', i_);
          if (close == std::string_view::npos) return fail("unclosed group name");
          i_ = close + 1;
        } else {
          return fail("lookaround and group flags are not supported");
        }
      }
      auto inner = alternation(depth + 1);
      if (!inner.ok()) return inner.status();
      if (!more() || peek() != ')') return fail("unclosed '('");
      ++i_;
      if (inner->seq.size() > 1) inner->seq = {Grammar::ref(g_.rule("group", {inner->seq}))};
      return inner;
    }
    if (c == '[') {
      ++i_;
      auto cls = char_class();
      if (!cls.ok()) return cls.status();
      return from_class(*cls);
    }
    if (c == '.') {
      ++i_;
      CharClass any;
      any.ascii.set();
      any.ascii.reset('\n');
      any.ascii.reset('\r');
      any.any_non_ascii = true;
      return from_class(any);
    }
    if (c == '\\') {
      ++i_;
      auto e = escape();
      if (!e.ok()) return e.status();
      return from_class(*e);
    }
    if (c == '*' || c == '+' || c == '?' || c == '{') return fail(std::string("nothing to repeat before '") + c + "'");
    if (c == '^' || c == '$') return fail("anchors are supported only at the ends");
    if (c == ']' || c == '}') {
      ++i_;
      CharClass lit;
      lit.ascii.set(static_cast<uint8_t>(c));
      return from_class(lit);
    }
    CharClass lit;
    if (static_cast<uint8_t>(c) >= 0x80) {
      lit.non_ascii.push_back(utf8_char());
    } else {
      lit.ascii.set(static_cast<uint8_t>(c));
      ++i_;
    }
    return from_class(lit);
  }

  JsonTextRules& t_;
  Grammar& g_;
  std::string_view p_;
  size_t i_ = 0;
};

}  // namespace

Result<uint32_t> pattern_rule(JsonTextRules& text, std::string_view pattern) {
  if (pattern.size() > 4096) return invalid_argument("pattern: longer than 4096 bytes");
  return PatternParser(text, pattern).parse();
}

}  // namespace moestream
