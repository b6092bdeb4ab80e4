// The benchmark's kernel-enforced budget: where this machine lets us make a memory cgroup, the
// process moves in, the kernel reports what it charged, and leaving removes the group.
#include "platform/memory_cgroup.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

using namespace moestream;

namespace {
std::string self_cgroups() {
  std::ifstream f("/proc/self/cgroup");
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("a memory cgroup: entered, charged, reported and removed") {
  const uint64_t limit = 1ull << 30;
  auto entered = MemoryCgroup::enter(limit);
  if (!entered.ok()) {
    MESSAGE("skipped: " << entered.status().message());
    return;
  }
  std::string dir;
  {
    std::unique_ptr<MemoryCgroup> group = std::move(entered).value();
    CHECK(group->limit_bytes() == limit);
    const std::string text = group->describe();
    CHECK(text.find("memory limit 1.0 GiB") != std::string::npos);
    dir = text.substr(text.find(" at ") + 4);
    CHECK(self_cgroups().find(dir.substr(dir.rfind('/'))) != std::string::npos);
    group->reset_peak();
    // 64 MiB touched inside the group is charged to it.
    const size_t bytes = 64u << 20;
    std::unique_ptr<char[]> block(new char[bytes]);
    std::memset(block.get(), 1, bytes);
    CHECK(block[bytes - 1] == 1);
    const uint64_t peak = group->peak_bytes();
    if (peak == 0) {
      MESSAGE("this kernel does not report the group's peak");
    } else {
      CHECK(peak >= bytes);
      CHECK(peak <= limit);
    }
    CHECK(group->oom_kills() == 0);
  }
  struct stat st {};
  CHECK(::stat(dir.c_str(), &st) != 0);  // removed on leaving
  CHECK(self_cgroups().find("moestream-") == std::string::npos);
}

TEST_CASE("a memory cgroup where there is no cgroup file system: a clear error") {
  auto entered = MemoryCgroup::enter(1ull << 30, "/nonexistent-cgroup-mount");
  REQUIRE_FALSE(entered.ok());
  CHECK(entered.status().message().find("no memory controller") != std::string::npos);
}
