// A JSON Schema `pattern` (the ECMA-262 subset schemas use) as a grammar rule for the content
// of a JSON string: the decoded text matches the pattern, each character written the way JSON
// spells it. Supported: literals, `.`, classes with ranges and negation, \d \w \s (and their
// negations), escapes, groups (capturing, (?:...), named), alternation, * + ? {n} {n,} {n,m}
// (lazy forms alike), ^ and $ at the ends; without them the match may sit anywhere in the
// string, as the validator's search allows. Backreferences, lookaround, word boundaries,
// non-ASCII ranges and repeats of what can match nothing are refused with a reason.
#pragma once

#include <cstdint>
#include <string_view>

#include "platform/status.h"
#include "text/grammar/json_text_rules.h"

namespace moestream {

Result<uint32_t> pattern_rule(JsonTextRules& text, std::string_view pattern);

}  // namespace moestream
