// Rewrites a tokenizer.json regex (written for Rust/Oniguruma and run by the reference
// implementation as a JavaScript "u" regex) into PCRE2 syntax with JavaScript's meaning:
//   \p{X} \P{X}  -> explicit ranges from the generated Unicode table (PCRE2's built-in
//                   tables may be older than the reference engine's Unicode version);
//   \s \S        -> JavaScript's whitespace set (it differs from PCRE2's \s);
//   \uXXXX \u{X} -> \x{..};   .  -> any code point except \n \r U+2028 U+2029.
// \d and \w stay ASCII, as in JavaScript (the pattern is compiled without PCRE2_UCP).
#pragma once

#include <string>
#include <string_view>

#include "platform/status.h"

namespace moestream {

Result<std::string> translate_js_regex_for_pcre2(std::string_view pattern);

}  // namespace moestream
