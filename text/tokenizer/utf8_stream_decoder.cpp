#include "text/tokenizer/utf8_stream_decoder.h"

#include "text/tokenizer/utf8.h"

namespace moestream {

std::string Utf8StreamDecoder::push(std::string_view bytes) {
  pending_.append(bytes);
  const auto* data = reinterpret_cast<const uint8_t*>(pending_.data());
  // A valid but incomplete tail waits for the next chunk; everything before it is final
  // (an ill-formed subpart cannot become valid by appending bytes).
  size_t keep = utf8::incomplete_tail_length(data, pending_.size());
  std::string_view ready(pending_.data(), pending_.size() - keep);
  std::string out = utf8::is_valid(ready) ? std::string(ready) : utf8::sanitize(ready);
  pending_.erase(0, pending_.size() - keep);
  return out;
}

std::string Utf8StreamDecoder::finish() {
  std::string out = pending_.empty() ? std::string() : utf8::sanitize(pending_);
  pending_.clear();
  return out;
}

}  // namespace moestream
