// UTF-8 helpers shared by the tokenizer: decoding one code point, encoding one, and the
// replacement of ill-formed input. Ill-formed bytes follow the Unicode "maximal subpart"
// rule (the one WHATWG TextDecoder, Node's Buffer.toString and Rust's from_utf8_lossy use):
// each maximal prefix of a valid sequence, or each lone bad byte, becomes one U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace moestream::utf8 {

inline constexpr char32_t kReplacementCharacter = 0xFFFD;
inline constexpr std::string_view kReplacementUtf8 = "\xEF\xBF\xBD";

// Length of the well-formed sequence starting at `data[0]`, or 0 when the bytes there are
// ill-formed or incomplete. `*code_point` receives the value when well formed.
size_t decode_one(const uint8_t* data, size_t size, char32_t* code_point);

// Number of bytes at `data[0]` that form the maximal subpart of an ill-formed sequence
// (always >= 1); only meaningful when decode_one returned 0.
size_t maximal_subpart_length(const uint8_t* data, size_t size);

// Whether `data` ends in a proper prefix of a well-formed sequence (1-3 bytes that more
// input could complete); returns that prefix length, else 0.
size_t incomplete_tail_length(const uint8_t* data, size_t size);

void append_code_point(char32_t code_point, std::string* out);

bool is_valid(std::string_view text);

// `text` with every ill-formed subsequence replaced by U+FFFD (a copy even when valid).
std::string sanitize(std::string_view text);

}  // namespace moestream::utf8
