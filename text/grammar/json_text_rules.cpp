#include "text/grammar/json_text_rules.h"

#include <cstdio>

namespace moestream {

uint32_t JsonTextRules::utf8_multibyte() {
  if (utf8_) return *utf8_;
  Grammar& g = g_;
  const auto cont = g.byte_range(0x80, 0xBF);
  // RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF.
  utf8_ = g.rule("utf8", {
                             {g.byte_range(0xC2, 0xDF), cont},
                             {g.byte(0xE0), g.byte_range(0xA0, 0xBF), cont},
                             {g.byte_range(0xE1, 0xEC), cont, cont},
                             {g.byte(0xED), g.byte_range(0x80, 0x9F), cont},
                             {g.byte_range(0xEE, 0xEF), cont, cont},
                             {g.byte(0xF0), g.byte_range(0x90, 0xBF), cont, cont},
                             {g.byte_range(0xF1, 0xF3), cont, cont, cont},
                             {g.byte(0xF4), g.byte_range(0x80, 0x8F), cont, cont},
                         });
  return *utf8_;
}

uint32_t JsonTextRules::string_char() {
  if (string_char_) return *string_char_;
  Grammar& g = g_;
  ByteSet plain;
  for (unsigned b = 0x20; b < 0x80; ++b) plain.set(b);
  plain.reset('"');
  plain.reset('\\');
  ByteSet simple_escape;
  for (char c : std::string("\"\\/bfnrt")) simple_escape.set(static_cast<uint8_t>(c));
  ByteSet hex;
  for (char c : std::string("0123456789abcdefABCDEF")) hex.set(static_cast<uint8_t>(c));
  ByteSet hex_not_d = hex;  // \uXXXX outside the surrogates D800-DFFF
  hex_not_d.reset('d');
  hex_not_d.reset('D');
  const auto h = g.bytes(hex);
  const uint32_t u = g.rule("unicode_escape", {{g.bytes(hex_not_d), h, h, h},
                                               {g.bytes(ByteSet().set('d').set('D')), g.byte_range('0', '7'), h, h}});
  string_char_ = g.rule("string_char", {{g.bytes(plain)},
                                        {Grammar::ref(utf8_multibyte())},
                                        {g.byte('\\'), g.bytes(simple_escape)},
                                        {g.byte('\\'), g.byte('u'), Grammar::ref(u)}});
  return *string_char_;
}

uint32_t JsonTextRules::whitespace() {
  if (whitespace_) return *whitespace_;
  ByteSet ws;
  for (char c : std::string(" \t\n\r")) ws.set(static_cast<uint8_t>(c));
  whitespace_ = g_.repeat({g_.bytes(ws)}, 0, kMaxWhitespace, "ws");
  return *whitespace_;
}

std::optional<Grammar::Sequence> JsonTextRules::char_of(const CharClass& c) {
  Grammar& g = g_;
  std::vector<Grammar::Sequence> alts;
  ByteSet plain;
  for (unsigned b = 0x20; b < 0x80; ++b) {
    if (c.ascii.test(b) && b != '"' && b != '\\') plain.set(b);
  }
  if (plain.any()) alts.push_back({g.bytes(plain)});
  if (c.ascii.test('"')) alts.push_back(g.literal("\\\""));
  if (c.ascii.test('\\')) alts.push_back(g.literal("\\\\"));
  for (unsigned b = 0; b < 0x20; ++b) {
    if (!c.ascii.test(b)) continue;
    switch (b) {
      case '\b': alts.push_back(g.literal("\\b")); break;
      case '\f': alts.push_back(g.literal("\\f")); break;
      case '\n': alts.push_back(g.literal("\\n")); break;
      case '\r': alts.push_back(g.literal("\\r")); break;
      case '\t': alts.push_back(g.literal("\\t")); break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", b);
        alts.push_back(g.literal(buf));
      }
    }
  }
  if (c.any_non_ascii) alts.push_back({Grammar::ref(utf8_multibyte())});
  for (const auto& s : c.non_ascii) alts.push_back(g.literal(s));
  if (alts.empty()) return std::nullopt;
  if (alts.size() == 1) return alts[0];
  return Grammar::Sequence{Grammar::ref(g.rule("char", std::move(alts)))};
}

}  // namespace moestream
