#include "platform/signal_cleanup.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

namespace moestream {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

struct Registry {
  std::mutex mutex;
  std::map<uint64_t, std::string> paths;
  uint64_t next_id = 1;
  bool started = false;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: the watcher may run during exit
  return *r;
}

int g_pipe[2] = {-1, -1};

void on_signal(int sig) {
  const unsigned char byte = static_cast<unsigned char>(sig);
  const int saved = errno;
  [[maybe_unused]] ssize_t n = ::write(g_pipe[1], &byte, 1);
  errno = saved;
}

void watch() {
  unsigned char byte = 0;
  while (true) {
    const ssize_t n = ::read(g_pipe[0], &byte, 1);
    if (n == 1) break;
    if (n < 0 && errno == EINTR) continue;
    return;  // the pipe broke: nothing left to do
  }
  const int sig = byte;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    for (const auto& [id, path] : r.paths) {
      // Other threads keep writing until the process dies: a directory is first renamed away
      // (atomic; new files under the old name then fail), then removed.
      std::error_code ec;
      std::string doomed = path;
      if (std::filesystem::is_directory(path, ec)) {
        const std::string renamed = path + ".removing-" + std::to_string(::getpid());
        if (::rename(path.c_str(), renamed.c_str()) == 0) doomed = renamed;
      }
      for (int attempt = 0; attempt < 5 && std::filesystem::exists(doomed, ec); ++attempt) {
        std::filesystem::remove_all(doomed, ec);
      }
    }
    r.paths.clear();
  }
  std::signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  std::raise(sig);
  ::_exit(128 + sig);  // not reached unless the default action was changed meanwhile
}

// Called with the registry mutex held.
void start_locked(Registry& r) {
  if (r.started) return;
  r.started = true;
  if (::pipe2(g_pipe, O_CLOEXEC) != 0) return;  // no cleanup, but no failure either
  std::thread(watch).detach();
  for (int sig : kSignals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) continue;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(sig, &sa, nullptr);
  }
}

}  // namespace

RemoveOnSignal::RemoveOnSignal(const std::string& path) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  start_locked(r);
  id_ = r.next_id++;
  r.paths[id_] = path;
}

RemoveOnSignal& RemoveOnSignal::operator=(RemoveOnSignal&& other) noexcept {
  if (this != &other) {
    release();
    id_ = other.id_;
    other.id_ = 0;
  }
  return *this;
}

void RemoveOnSignal::release() {
  if (id_ == 0) return;
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.paths.erase(id_);
  id_ = 0;
}

}  // namespace moestream
