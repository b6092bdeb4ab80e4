#include "text/tokenizer/unicode_classes.h"

#include <string>
#include <utility>

namespace moestream {
namespace {

struct NamedClass {
  std::string_view name;
  std::vector<CodePointRange> ranges;
};

#define MOESTREAM_UNICODE_CLASS(name, ...) NamedClass{name, std::vector<CodePointRange>{__VA_ARGS__}},

const std::vector<NamedClass>& all_classes() {
  static const std::vector<NamedClass> classes = {
#include "text/tokenizer/unicode_classes_data.inc"
  };
  return classes;
}

}  // namespace

std::span<const CodePointRange> unicode_class_ranges(std::string_view name) {
  for (const NamedClass& c : all_classes()) {
    if (c.name == name) return c.ranges;
  }
  return {};
}

std::vector<CodePointRange> complement_ranges(std::span<const CodePointRange> ranges) {
  std::vector<CodePointRange> out;
  char32_t next = 0;
  auto add_gap = [&](char32_t first, char32_t last) {
    // Split around the surrogates, which PCRE2 rejects in UTF mode.
    if (first <= 0xD7FF) out.push_back({first, last < 0xD7FF ? last : 0xD7FF});
    if (last >= 0xE000) out.push_back({first > 0xE000 ? first : 0xE000, last});
  };
  for (const CodePointRange& r : ranges) {
    if (r.first > next) add_gap(next, r.first - 1);
    next = r.last + 1;
  }
  if (next <= 0x10FFFF) add_gap(next, 0x10FFFF);
  return out;
}

std::string_view unicode_classes_version() { return MOESTREAM_UNICODE_VERSION; }

}  // namespace moestream
