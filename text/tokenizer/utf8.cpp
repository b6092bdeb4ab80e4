#include "text/tokenizer/utf8.h"

namespace moestream::utf8 {
namespace {

// Valid second-byte range for each lead byte (Unicode Table 3-7); the rest are 80..BF.
bool second_byte_ok(uint8_t lead, uint8_t b) {
  if (lead == 0xE0) return b >= 0xA0 && b <= 0xBF;
  if (lead == 0xED) return b >= 0x80 && b <= 0x9F;
  if (lead == 0xF0) return b >= 0x90 && b <= 0xBF;
  if (lead == 0xF4) return b >= 0x80 && b <= 0x8F;
  return b >= 0x80 && b <= 0xBF;
}

size_t sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;  // 80..C1, F5..FF never start a sequence
}

// How many bytes from data[0] are a valid prefix of a sequence (capped at its length).
size_t valid_prefix_length(const uint8_t* data, size_t size, size_t need) {
  if (need == 0) return 0;
  size_t n = 1;
  while (n < need && n < size) {
    uint8_t b = data[n];
    bool ok = n == 1 ? second_byte_ok(data[0], b) : (b >= 0x80 && b <= 0xBF);
    if (!ok) break;
    ++n;
  }
  return n;
}

}  // namespace

size_t decode_one(const uint8_t* data, size_t size, char32_t* code_point) {
  if (size == 0) return 0;
  uint8_t lead = data[0];
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  }
  size_t need = sequence_length(lead);
  if (need == 0 || valid_prefix_length(data, size, need) != need) return 0;
  char32_t cp = need == 2 ? (lead & 0x1F) : need == 3 ? (lead & 0x0F) : (lead & 0x07);
  for (size_t i = 1; i < need; ++i) cp = (cp << 6) | (data[i] & 0x3F);
  *code_point = cp;
  return need;
}

size_t maximal_subpart_length(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t need = sequence_length(data[0]);
  if (need == 0) return 1;
  size_t n = valid_prefix_length(data, size, need);
  return n == 0 ? 1 : n;
}

size_t incomplete_tail_length(const uint8_t* data, size_t size) {
  // A sequence is at most 4 bytes, so an incomplete one starts within the last 3.
  for (size_t back = 1; back <= 3 && back <= size; ++back) {
    const uint8_t* start = data + size - back;
    size_t need = sequence_length(start[0]);
    if (need == 0 || need == 1) continue;  // continuation byte or ASCII: look further back
    if (need > back && valid_prefix_length(start, back, need) == back) return back;
    return 0;
  }
  return 0;
}

void append_code_point(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_valid(std::string_view text) {
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  size_t i = 0;
  char32_t cp;
  while (i < text.size()) {
    if (data[i] < 0x80) {
      ++i;
      continue;
    }
    size_t n = decode_one(data + i, text.size() - i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  size_t i = 0;
  char32_t cp;
  while (i < text.size()) {
    size_t n = data[i] < 0x80 ? 1 : decode_one(data + i, text.size() - i, &cp);
    if (n > 0) {
      out.append(text.data() + i, n);
      i += n;
    } else {
      out.append(kReplacementUtf8);
      i += maximal_subpart_length(data + i, text.size() - i);
    }
  }
  return out;
}

}  // namespace moestream::utf8
