#include "text/tokenizer/byte_level.h"

#include "text/tokenizer/utf8.h"

namespace moestream {

ByteLevelMap::ByteLevelMap() {
  cp_to_byte_.fill(-1);
  auto printable = [](int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  };
  char32_t next_extra = 256;
  for (int b = 0; b < 256; ++b) {
    char32_t cp = printable(b) ? static_cast<char32_t>(b) : next_extra++;
    byte_to_cp_[b] = cp;
    cp_to_byte_[cp] = static_cast<int16_t>(b);
  }
}

const ByteLevelMap& ByteLevelMap::get() {
  static const ByteLevelMap map;
  return map;
}

std::optional<uint8_t> ByteLevelMap::code_point_to_byte(char32_t cp) const {
  if (cp >= cp_to_byte_.size() || cp_to_byte_[cp] < 0) return std::nullopt;
  return static_cast<uint8_t>(cp_to_byte_[cp]);
}

std::optional<std::string> ByteLevelMap::decode_token_text(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    char32_t cp = 0;
    size_t n = utf8::decode_one(data + i, text.size() - i, &cp);
    if (n == 0) return std::nullopt;
    auto byte = code_point_to_byte(cp);
    if (!byte) return std::nullopt;
    out.push_back(static_cast<char>(*byte));
    i += n;
  }
  return out;
}

std::string ByteLevelMap::encode_bytes(std::string_view bytes) const {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) utf8::append_code_point(byte_to_cp_[static_cast<uint8_t>(c)], &out);
  return out;
}

}  // namespace moestream
