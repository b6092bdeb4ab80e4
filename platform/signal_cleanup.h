// Removal of half-written output when the process is interrupted. While a RemoveOnSignal
// object lives, SIGINT, SIGTERM or SIGHUP first removes its path (a file, or a directory with
// everything in it), then the process dies of the signal as it would have without us (same
// exit status). AtomicFileWriter registers its PATH.partial; commands that stage a directory
// register it themselves.
//
// How: the first registration installs a handler (only for signals still at their default
// disposition, so `nohup` and callers that ignore SIGINT keep their choice) that writes the
// signal number to a pipe, the one async-signal-safe step. A watcher thread reads it, removes
// the registered paths under a mutex in normal thread context, restores the default action
// and re-raises. Thread-safe: objects may be created and destroyed on any thread.
#pragma once

#include <cstdint>
#include <string>

namespace moestream {

class RemoveOnSignal {
 public:
  RemoveOnSignal() = default;
  explicit RemoveOnSignal(const std::string& path);
  ~RemoveOnSignal() { release(); }
  RemoveOnSignal(RemoveOnSignal&& other) noexcept : id_(other.id_) { other.id_ = 0; }
  RemoveOnSignal& operator=(RemoveOnSignal&& other) noexcept;
  RemoveOnSignal(const RemoveOnSignal&) = delete;
  RemoveOnSignal& operator=(const RemoveOnSignal&) = delete;

  // Forgets the path (it is complete, renamed, or already removed); never removes it.
  void release();
  bool active() const { return id_ != 0; }

 private:
  uint64_t id_ = 0;
};

}  // namespace moestream
