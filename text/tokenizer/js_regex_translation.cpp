#include "text/tokenizer/js_regex_translation.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "text/tokenizer/unicode_classes.h"

namespace moestream {
namespace {

void append_code_point_escape(char32_t cp, std::string* out) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "\\x{%x}", static_cast<unsigned>(cp));
  out->append(buf);
}

// Class items ("a-z" style) for the ranges, without the surrounding brackets.
void append_class_items(std::span<const CodePointRange> ranges, std::string* out) {
  for (const CodePointRange& r : ranges) {
    append_code_point_escape(r.first, out);
    if (r.last != r.first) {
      out->push_back('-');
      append_code_point_escape(r.last, out);
    }
  }
}

struct Translator {
  std::string_view in;
  size_t pos = 0;
  std::string out;
  bool in_class = false;

  Status fail(const std::string& what) const {
    return invalid_argument("tokenizer regex: " + what + " at offset " + std::to_string(pos) +
                            " of \"" + std::string(in) + "\"");
  }

  // Emits `ranges` (negated when asked) in the current context.
  void emit_set(std::span<const CodePointRange> ranges, bool negated) {
    if (in_class) {
      if (negated) {
        append_class_items(complement_ranges(ranges), &out);
      } else {
        append_class_items(ranges, &out);
      }
      return;
    }
    out.append(negated ? "[^" : "[");
    append_class_items(ranges, &out);
    out.push_back(']');
  }

  // pos is just after "\p" or "\P".
  Status property(bool negated) {
    if (pos >= in.size() || in[pos] != '{') return fail("\\p without {NAME}");
    size_t close = in.find('}', pos);
    if (close == std::string_view::npos) return fail("unterminated \\p{");
    std::string_view name = in.substr(pos + 1, close - pos - 1);
    auto ranges = unicode_class_ranges(name);
    if (ranges.empty() || name == "space") {
      return fail("unsupported Unicode property \\p{" + std::string(name) +
                  "} (general categories like L, Lu, N, P, S, M, Z, C are supported)");
    }
    pos = close + 1;
    emit_set(ranges, negated);
    return ok_status();
  }

  // pos is just after "\u".
  Status unicode_escape() {
    size_t start = pos, end = pos;
    if (pos < in.size() && in[pos] == '{') {
      end = in.find('}', pos);
      if (end == std::string_view::npos) return fail("unterminated \\u{");
      ++start;
      pos = end + 1;
    } else {
      if (pos + 4 > in.size()) return fail("short \\u escape");
      end = pos + 4;
      pos = end;
    }
    std::string hex(in.substr(start, end - start));
    char* parse_end = nullptr;
    unsigned long cp = std::strtoul(hex.c_str(), &parse_end, 16);
    if (hex.empty() || *parse_end != '\0' || cp > 0x10FFFF) return fail("bad \\u escape");
    append_code_point_escape(static_cast<char32_t>(cp), &out);
    return ok_status();
  }

  Status escape() {
    if (pos + 1 >= in.size()) return fail("pattern ends with a backslash");
    char c = in[pos + 1];
    pos += 2;
    switch (c) {
      case 'p': return property(false);
      case 'P': return property(true);
      case 's': emit_set(unicode_class_ranges("space"), false); return ok_status();
      case 'S': emit_set(unicode_class_ranges("space"), true); return ok_status();
      case 'u': return unicode_escape();
      default:
        out.push_back('\\');
        out.push_back(c);
        return ok_status();
    }
  }

  Status run() {
    while (pos < in.size()) {
      char c = in[pos];
      if (c == '\\') {
        MOESTREAM_TRY(escape());
        continue;
      }
      if (in_class) {
        if (c == ']') in_class = false;
        if (c == '[') {
          out.append("\\[");  // literal in JavaScript; PCRE2 would read "[:" as a POSIX class
          ++pos;
          continue;
        }
        out.push_back(c);
        ++pos;
        continue;
      }
      if (c == '[') {
        in_class = true;
        out.push_back(c);
        ++pos;
        if (pos < in.size() && in[pos] == '^') {
          out.push_back('^');
          ++pos;
        }
        if (pos < in.size() && in[pos] == ']') {
          // "[]" matches nothing and "[^]" anything in JavaScript.
          if (out.back() == '^') {
            out.replace(out.size() - 2, 2, "[\\s\\S]");
          } else {
            out.replace(out.size() - 1, 1, "(?!)");
          }
          in_class = false;
          ++pos;
        }
        continue;
      }
      if (c == '.') {
        out.append("[^\\n\\r\\x{2028}\\x{2029}]");
        ++pos;
        continue;
      }
      out.push_back(c);
      ++pos;
    }
    if (in_class) return fail("unterminated character class");
    return ok_status();
  }
};

}  // namespace

Result<std::string> translate_js_regex_for_pcre2(std::string_view pattern) {
  Translator t;
  t.in = pattern;
  MOESTREAM_TRY(t.run());
  return std::move(t.out);
}

}  // namespace moestream
