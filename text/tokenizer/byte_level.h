// The GPT-2 ByteLevel byte <-> unicode map that byte-level BPE vocabularies are written in:
// printable bytes map to themselves, the other 68 to U+0100.. in byte order. The tokenizer
// works on raw bytes internally and uses this map only to read vocab and merges.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace moestream {

class ByteLevelMap {
 public:
  static const ByteLevelMap& get();

  char32_t byte_to_code_point(uint8_t byte) const { return byte_to_cp_[byte]; }
  // The byte a code point stands for, or nullopt when it is not one of the 256.
  std::optional<uint8_t> code_point_to_byte(char32_t cp) const;

  // "Ġhello" -> " hello"; nullopt when a character is outside the map (e.g. an added
  // token's text that was never byte-level encoded) or the text is not valid UTF-8.
  std::optional<std::string> decode_token_text(std::string_view text) const;
  // " hello" -> "Ġhello".
  std::string encode_bytes(std::string_view bytes) const;

 private:
  ByteLevelMap();
  std::array<char32_t, 256> byte_to_cp_{};
  std::array<int16_t, 324> cp_to_byte_{};  // every mapped code point is below 324
};

}  // namespace moestream
