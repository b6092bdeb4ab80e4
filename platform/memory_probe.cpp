#include "platform/memory_probe.h"

#include <mimalloc.h>

#include <fstream>
#include <sstream>
#include <string>

namespace moestream {

namespace {

// Reads "<key>: <n> kB" from a /proc file.
uint64_t read_kb_field(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0 && line.size() > key.size() && line[key.size()] == ':') {
      std::istringstream ss(line.substr(key.size() + 1));
      uint64_t kb = 0;
      ss >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

std::optional<uint64_t> read_limit_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string value;
  in >> value;
  if (value.empty() || value == "max") return std::nullopt;
  try {
    uint64_t v = std::stoull(value);
    if (v >= (uint64_t{1} << 60)) return std::nullopt;  // v1 "unlimited" is ~2^63
    return v;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

void return_free_memory_to_os() { mi_collect(true); }

uint64_t current_rss_bytes() { return read_kb_field("/proc/self/status", "VmRSS"); }
uint64_t peak_rss_bytes() { return read_kb_field("/proc/self/status", "VmHWM"); }
uint64_t total_ram_bytes() { return read_kb_field("/proc/meminfo", "MemTotal"); }
uint64_t available_ram_bytes() { return read_kb_field("/proc/meminfo", "MemAvailable"); }

std::optional<uint64_t> cgroup_memory_limit_bytes() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  std::optional<uint64_t> best;
  while (std::getline(in, line)) {
    // v2: "0::/path"; v1: "N:memory:/path"
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string rel = line.substr(second + 1);
    std::optional<uint64_t> limit;
    if (controllers.empty()) {
      limit = read_limit_file("/sys/fs/cgroup" + rel + "/memory.max");
    } else if (controllers.find("memory") != std::string::npos) {
      limit = read_limit_file("/sys/fs/cgroup/memory" + rel + "/memory.limit_in_bytes");
      if (!limit) limit = read_limit_file("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    }
    if (limit && (!best || *limit < *best)) best = limit;
  }
  return best;
}

}  // namespace moestream
