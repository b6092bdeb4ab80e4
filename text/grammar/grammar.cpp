#include "text/grammar/grammar.h"

#include <algorithm>
#include <limits>

namespace moestream {

uint32_t Grammar::new_rule(std::string name) {
  rules_.emplace_back();
  names_.push_back(std::move(name));
  return static_cast<uint32_t>(rules_.size() - 1);
}

void Grammar::add_alternative(uint32_t rule, Sequence sequence) { rules_[rule].push_back(std::move(sequence)); }

uint32_t Grammar::rule(std::string name, std::vector<Sequence> alternatives) {
  const uint32_t r = new_rule(std::move(name));
  for (auto& a : alternatives) add_alternative(r, std::move(a));
  return r;
}

GrammarElement Grammar::bytes(const ByteSet& set) {
  // Few distinct sets exist (digits, string characters, ...): share them.
  for (size_t i = 0; i < byte_sets_.size(); ++i) {
    if (byte_sets_[i] == set) return {GrammarElement::Kind::kBytes, static_cast<uint32_t>(i)};
  }
  byte_sets_.push_back(set);
  return {GrammarElement::Kind::kBytes, static_cast<uint32_t>(byte_sets_.size() - 1)};
}

GrammarElement Grammar::byte(uint8_t b) {
  ByteSet s;
  s.set(b);
  return bytes(s);
}

GrammarElement Grammar::byte_range(uint8_t first, uint8_t last) {
  ByteSet s;
  for (unsigned b = first; b <= last; ++b) s.set(b);
  return bytes(s);
}

Grammar::Sequence Grammar::literal(std::string_view text) {
  Sequence seq;
  for (char c : text) seq.push_back(byte(static_cast<uint8_t>(c)));
  return seq;
}

uint32_t Grammar::star(const Sequence& item, std::string name) {
  const uint32_t r = new_rule(std::move(name));
  Sequence again = item;
  again.push_back(ref(r));
  add_alternative(r, std::move(again));
  add_alternative(r, {});
  return r;
}

uint32_t Grammar::optional(const Sequence& item, std::string name) { return rule(std::move(name), {item, {}}); }

uint32_t Grammar::repeat(const Sequence& item, int64_t min, int64_t max, std::string name) {
  // item{min} then either item* (unbounded) or (item (item (...)?)?)? nested max-min deep.
  Sequence tail;
  if (max < 0) {
    tail.push_back(ref(star(item, name + "*")));
  } else {
    uint32_t inner = 0;
    bool have_inner = false;
    for (int64_t i = min; i < max; ++i) {
      Sequence body = item;
      if (have_inner) body.push_back(ref(inner));
      inner = optional(body, name + "?");
      have_inner = true;
    }
    if (have_inner) tail.push_back(ref(inner));
  }
  Sequence all;
  for (int64_t i = 0; i < min; ++i) all.insert(all.end(), item.begin(), item.end());
  all.insert(all.end(), tail.begin(), tail.end());
  return rule(std::move(name), {all});
}

std::vector<uint64_t> Grammar::min_lengths() const {
  constexpr uint64_t kInf = std::numeric_limits<uint32_t>::max();
  std::vector<uint64_t> len(rules_.size(), kInf);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < rules_.size(); ++r) {
      for (const auto& alt : rules_[r]) {
        uint64_t total = 0;
        for (const auto& e : alt) {
          total += e.kind == GrammarElement::Kind::kRule ? len[e.value] : 1;
          if (total >= kInf) break;
        }
        if (total < len[r]) {
          len[r] = total;
          changed = true;
        }
      }
    }
  }
  return len;
}

std::string Grammar::left_recursive_rule() const {
  const std::vector<uint64_t> len = min_lengths();
  // Edges r -> s where s can be entered before r has read anything.
  std::vector<std::vector<uint32_t>> first(rules_.size());
  for (size_t r = 0; r < rules_.size(); ++r) {
    for (const auto& alt : rules_[r]) {
      for (const auto& e : alt) {
        if (e.kind != GrammarElement::Kind::kRule) break;
        first[r].push_back(e.value);
        if (len[e.value] != 0) break;
      }
    }
  }
  std::vector<uint8_t> mark(rules_.size(), 0);  // 0 new, 1 on the path, 2 done
  std::vector<std::pair<uint32_t, size_t>> stack;
  for (uint32_t start = 0; start < rules_.size(); ++start) {
    if (mark[start] != 0) continue;
    stack.emplace_back(start, 0);
    mark[start] = 1;
    while (!stack.empty()) {
      auto& [r, next] = stack.back();
      if (next == first[r].size()) {
        mark[r] = 2;
        stack.pop_back();
        continue;
      }
      const uint32_t s = first[r][next++];
      if (mark[s] == 1) return names_[s];
      if (mark[s] == 0) {
        mark[s] = 1;
        stack.emplace_back(s, 0);
      }
    }
  }
  return {};
}

std::string Grammar::to_string() const {
  std::string out;
  for (size_t r = 0; r < rules_.size(); ++r) {
    out.append(names_[r]).append("#").append(std::to_string(r)).append(" ::=");
    for (size_t a = 0; a < rules_[r].size(); ++a) {
      if (a > 0) out += " |";
      for (const auto& e : rules_[r][a]) {
        out += ' ';
        switch (e.kind) {
          case GrammarElement::Kind::kRule: out.append(names_[e.value]).append("#").append(std::to_string(e.value)); break;
          case GrammarElement::Kind::kToken: out.append("<token ").append(std::to_string(e.value)).append(">"); break;
          case GrammarElement::Kind::kEnd: out += "<end>"; break;
          case GrammarElement::Kind::kBytes: {
            const ByteSet& s = byte_sets_[e.value];
            if (s.count() == 1) {
              for (unsigned b = 0; b < 256; ++b) {
                if (!s.test(b)) continue;
                if (b >= 0x20 && b < 0x7f) {
                  out += '\'';
                  out += static_cast<char>(b);
                  out += '\'';
                } else {
                  out.append("x").append(std::to_string(b));
                }
              }
            } else {
              out.append("[").append(std::to_string(s.count())).append(" bytes]");
            }
            break;
          }
        }
      }
      if (rules_[r][a].empty()) out += " ()";
    }
    out += '\n';
  }
  return out;
}

}  // namespace moestream
