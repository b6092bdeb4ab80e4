// A kernel-enforced memory limit for this process: a new cgroup under the one the process is
// in (v2 where the memory controller can be delegated there, else v1), which the process moves
// into, so that a benchmark's budget is checked by the kernel and not by our own accounting.
// Page cache the process causes counts against the limit, as it does for any program. Needs
// root or a delegated cgroup; where the group cannot be made, enter() says why.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "platform/status.h"

namespace moestream {

class MemoryCgroup {
 public:
  // `mount` is where the cgroup file systems are mounted (tests point it elsewhere).
  static Result<std::unique_ptr<MemoryCgroup>> enter(uint64_t limit_bytes, const std::string& mount = "/sys/fs/cgroup");
  ~MemoryCgroup();  // moves the process back to where it was and removes the group
  MemoryCgroup(const MemoryCgroup&) = delete;
  MemoryCgroup& operator=(const MemoryCgroup&) = delete;

  // "cgroup v1 memory limit 8.0 GiB at /sys/fs/cgroup/memory/.../moestream-1234"
  std::string describe() const;
  uint64_t limit_bytes() const { return limit_; }
  // The highest charge since entering or the last reset_peak() (resident memory and page cache
  // of the process), or 0 where the kernel does not report it.
  uint64_t peak_bytes() const;
  void reset_peak();
  // Times the limit was hit (v1 failcnt, v2 memory.events "max") and OOM kills in the group.
  uint64_t limit_hits() const;
  uint64_t oom_kills() const;

 private:
  MemoryCgroup() = default;
  int version_ = 0;
  std::string dir_;     // the group
  std::string parent_;  // where the process was
  uint64_t limit_ = 0;
};

}  // namespace moestream
