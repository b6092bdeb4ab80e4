// Code point ranges of the Unicode general categories (and JavaScript's \s) as the
// reference tokenizer's JavaScript engine defines them (generated table, see
// scripts/tokenizer_gen_unicode_classes.mjs). Used to give PCRE2 the same classes.
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace moestream {

struct CodePointRange {
  char32_t first;
  char32_t last;  // inclusive
};

// Ranges (sorted, disjoint) of a general category ("L", "Lu", "N", "P", ...) or "space"
// (JavaScript \s); empty when the name is unknown.
std::span<const CodePointRange> unicode_class_ranges(std::string_view name);

// The complement of sorted disjoint ranges within U+0000..U+10FFFF, surrogates excluded.
std::vector<CodePointRange> complement_ranges(std::span<const CodePointRange> ranges);

// The Unicode version the table was generated from, e.g. "17.0".
std::string_view unicode_classes_version();

}  // namespace moestream
