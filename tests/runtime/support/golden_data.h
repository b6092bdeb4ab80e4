// Test-only readers for the golden reference files (tests/data/golden, see its README):
// .npy float32 arrays, prompts.json and routing.json.
#pragma once

#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hf_test_checkpoint.h"

namespace moestream::testing {

inline std::string golden_dir() { return std::string(MOESTREAM_TEST_DATA_DIR) + "/golden/tinyA"; }

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// NumPy v1.0 '<f4' C-order: header length is the uint16 at byte 8, data after 10 + length.
inline NpyArray read_npy_f32(const std::string& path) {
  const std::string bytes = read_file(path);
  NpyArray out;
  if (bytes.size() < 10 || bytes.compare(1, 5, "NUMPY") != 0) return out;
  uint16_t header_len = 0;
  std::memcpy(&header_len, bytes.data() + 8, 2);
  const std::string header = bytes.substr(10, header_len);
  const size_t open = header.find("'shape': (");
  size_t pos = open + 10;
  while (pos < header.size() && header[pos] != ')') {
    while (pos < header.size() && (header[pos] == ' ' || header[pos] == ',')) ++pos;
    if (header[pos] == ')') break;
    out.shape.push_back(std::stoll(header.substr(pos)));
    while (pos < header.size() && header[pos] != ',' && header[pos] != ')') ++pos;
  }
  int64_t n = 1;
  for (int64_t d : out.shape) n *= d;
  out.values.resize(static_cast<size_t>(n));
  std::memcpy(out.values.data(), bytes.data() + 10 + header_len, sizeof(float) * n);
  return out;
}

inline std::vector<std::vector<int32_t>> golden_prompts() {
  const auto j = nlohmann::json::parse(read_file(golden_dir() + "/prompts.json"));
  std::vector<std::vector<int32_t>> prompts;
  for (const auto& p : j["prompts"]) prompts.push_back(p.get<std::vector<int32_t>>());
  return prompts;
}

// routing[prompt][(layer, token)] = sorted expert ids.
using GoldenRouting = std::vector<std::map<std::pair<int64_t, int64_t>, std::vector<int32_t>>>;

inline GoldenRouting golden_routing(const std::string& variant) {
  const auto j = nlohmann::json::parse(read_file(golden_dir() + "/ref/" + variant + "/routing.json"));
  GoldenRouting out;
  for (const auto& prompt : j["prompts"]) {
    out.emplace_back();
    for (const auto& entry : prompt) {
      out.back()[{entry["layer"].get<int64_t>(), entry["token"].get<int64_t>()}] =
          entry["experts"].get<std::vector<int32_t>>();
    }
  }
  return out;
}

inline std::vector<int32_t> golden_mtp_input_ids(const std::string& variant, size_t prompt) {
  const auto j = nlohmann::json::parse(read_file(golden_dir() + "/ref/" + variant + "/reference.json"));
  return j["per_prompt"][prompt]["mtp"]["mtp_input_ids"].get<std::vector<int32_t>>();
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 1e30;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  return m;
}

}  // namespace moestream::testing
