// Turns a stream of byte chunks (token by token) into UTF-8 text that is safe to print at
// once: the bytes of a character split across tokens are held until it is complete, and
// ill-formed bytes become U+FFFD exactly as a lossy decode of the whole stream would do.
#pragma once

#include <string>
#include <string_view>

namespace moestream {

class Utf8StreamDecoder {
 public:
  // Returns the text that is complete after `bytes`; may be empty.
  std::string push(std::string_view bytes);
  // Ends the stream: a held incomplete character becomes U+FFFD.
  std::string finish();
  bool has_pending() const { return !pending_.empty(); }

 private:
  std::string pending_;  // at most 3 bytes of an incomplete character
};

}  // namespace moestream
