// The whole contents of a file as bytes (empty if it cannot be opened), for tests that compare
// outputs or parse fixtures.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace moestream::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace moestream::testing
