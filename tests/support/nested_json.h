// Hostile JSON for the limit tests: `levels` nested arrays or objects, optionally wrapped
// inside an otherwise valid document.
#pragma once

#include <string>

namespace moestream::testing {

// "[[[...]]]" with `levels` brackets.
inline std::string nested_arrays(size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

// {"a":{"a":...{}...}} with `levels` objects.
inline std::string nested_objects(size_t levels) {
  std::string s;
  s.reserve(levels * 6);
  for (size_t i = 0; i + 1 < levels; ++i) s += "{\"a\":";
  s += "{}";
  s += std::string(levels - 1, '}');
  return s;
}

}  // namespace moestream::testing
