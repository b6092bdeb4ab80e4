// Stop strings over streamed text: push() each new piece and get back what may be shown now.
// Text that could still turn into a stop string is held back until it cannot; a match ends
// the stream and nothing from the match on is ever released.
#pragma once

#include <string>
#include <vector>

namespace moestream {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  // Returns the text that is safe to show after appending `piece`.
  std::string push(const std::string& piece);
  // The rest when generation ends without a match.
  std::string finish();

  bool matched() const { return matched_ >= 0; }
  const std::string& matched_stop() const { return stops_[static_cast<size_t>(matched_)]; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;  // not yet released
  int matched_ = -1;
};

}  // namespace moestream
