#include "platform/memory_cgroup.h"

#include "platform/progress_bar.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace moestream {
namespace {

bool write_file(const std::string& path, const std::string& text, std::string* error = nullptr) {
  std::ofstream f(path);
  if (f && (f << text) && f.flush()) return true;
  if (error) *error = path + ": " + std::strerror(errno);
  return false;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

uint64_t read_number(const std::string& path) {
  const std::string text = read_file(path);
  return text.empty() ? 0 : std::strtoull(text.c_str(), nullptr, 10);
}

// The value of `key` in a "key value" per line file (memory.events, memory.oom_control).
uint64_t read_keyed(const std::string& path, const std::string& key) {
  std::istringstream in(read_file(path));
  std::string k;
  uint64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return 0;
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// This process's path in the hierarchy named by `controller` ("" for the v2 unified one).
std::string own_path(const std::string& controller) {
  std::istringstream in(read_file("/proc/self/cgroup"));
  std::string line;
  while (std::getline(in, line)) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string names = line.substr(a + 1, b - a - 1);
    bool match = controller.empty() ? names.empty() : false;
    std::istringstream list(names);
    std::string name;
    while (!controller.empty() && std::getline(list, name, ',')) match = match || name == controller;
    if (match) return line.substr(b + 1);
  }
  return "";
}

}  // namespace

Result<std::unique_ptr<MemoryCgroup>> MemoryCgroup::enter(uint64_t limit_bytes, const std::string& mount) {
  std::unique_ptr<MemoryCgroup> g(new MemoryCgroup());
  g->limit_ = limit_bytes;
  const std::string name = "/moestream-" + std::to_string(::getpid());
  std::string why;
  if (is_dir(mount + "/memory")) {  // v1
    const std::string parent = mount + "/memory" + own_path("memory");
    g->version_ = 1;
    g->parent_ = parent;
    g->dir_ = parent + name;
    if (::mkdir(g->dir_.c_str(), 0755) != 0 && errno != EEXIST) {
      return unsupported("cannot create a memory cgroup at " + g->dir_ + ": " + std::strerror(errno) +
                         " (needs root or a delegated cgroup)");
    }
    // Swap would let the group exceed the limit by paging out; cap memory+swap too where the
    // kernel has it (it must not be set below the memory limit, so memory goes first).
    if (!write_file(g->dir_ + "/memory.limit_in_bytes", std::to_string(limit_bytes), &why) ||
        (is_dir(g->dir_) && ::access((g->dir_ + "/memory.memsw.limit_in_bytes").c_str(), F_OK) == 0 &&
         !write_file(g->dir_ + "/memory.memsw.limit_in_bytes", std::to_string(limit_bytes), &why)) ||
        !write_file(g->dir_ + "/cgroup.procs", std::to_string(::getpid()), &why)) {
      ::rmdir(g->dir_.c_str());
      return unsupported("cannot set up the memory cgroup: " + why);
    }
    return g;
  }
  const std::string own = own_path("");
  const std::string parent = mount + (own == "/" ? "" : own);
  if (read_file(parent + "/cgroup.controllers").find("memory") == std::string::npos) {
    return unsupported("no memory controller: neither cgroup v1 at " + mount + "/memory nor v2 with memory at " + parent);
  }
  g->version_ = 2;
  g->parent_ = parent;
  g->dir_ = parent + name;
  // The controller must be enabled for the parent's children; outside the root, v2 allows
  // that only for a group without processes of its own, so this may fail (then we say so).
  if (read_file(parent + "/cgroup.subtree_control").find("memory") == std::string::npos &&
      !write_file(parent + "/cgroup.subtree_control", "+memory", &why)) {
    return unsupported("cannot delegate the memory controller: " + why);
  }
  if (::mkdir(g->dir_.c_str(), 0755) != 0 && errno != EEXIST) {
    return unsupported("cannot create a memory cgroup at " + g->dir_ + ": " + std::strerror(errno));
  }
  if (!write_file(g->dir_ + "/memory.max", std::to_string(limit_bytes), &why) ||
      (::access((g->dir_ + "/memory.swap.max").c_str(), F_OK) == 0 && !write_file(g->dir_ + "/memory.swap.max", "0", &why)) ||
      !write_file(g->dir_ + "/cgroup.procs", std::to_string(::getpid()), &why)) {
    ::rmdir(g->dir_.c_str());
    return unsupported("cannot set up the memory cgroup: " + why);
  }
  return g;
}

MemoryCgroup::~MemoryCgroup() {
  write_file(parent_ + "/cgroup.procs", std::to_string(::getpid()));
  ::rmdir(dir_.c_str());
}

std::string MemoryCgroup::describe() const {
  return "cgroup v" + std::to_string(version_) + " memory limit " + format_bytes(limit_) + " at " + dir_;
}

uint64_t MemoryCgroup::peak_bytes() const {
  return read_number(dir_ + (version_ == 1 ? "/memory.max_usage_in_bytes" : "/memory.peak"));
}

void MemoryCgroup::reset_peak() {
  // v1 resets on any write; v2's memory.peak resets per writer on kernels from 6.12.
  write_file(dir_ + (version_ == 1 ? "/memory.max_usage_in_bytes" : "/memory.peak"), version_ == 1 ? "0" : "reset");
}

uint64_t MemoryCgroup::limit_hits() const {
  return version_ == 1 ? read_number(dir_ + "/memory.failcnt") : read_keyed(dir_ + "/memory.events", "max");
}

uint64_t MemoryCgroup::oom_kills() const {
  return read_keyed(dir_ + (version_ == 1 ? "/memory.oom_control" : "/memory.events"), "oom_kill");
}

}  // namespace moestream
