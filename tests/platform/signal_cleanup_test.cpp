#include "platform/signal_cleanup.h"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "platform/file.h"
#include "support/temp_dir.h"

namespace moestream {
namespace {

namespace fs = std::filesystem;

// Runs `body` in a child process and returns its wait status.
template <typename F>
int in_child(F body) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, SIG_DFL);  // not doctest's crash handler
    body();
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

TEST_CASE("signal cleanup: SIGTERM and SIGINT remove registered files and directories, then kill as before") {
  for (int sig : {SIGTERM, SIGINT}) {
    CAPTURE(sig);
    testing::TempDir dir;
    const std::string kept = dir.file("kept"), released = dir.file("released");
    const int status = in_child([&] {
      auto w = AtomicFileWriter::create(dir.file("out.bin"));  // registers out.bin.partial
      if (!w.ok() || !w->write("abc", 3).ok()) ::_exit(3);
      fs::create_directories(dir.file("staging/sub"));
      std::ofstream(dir.file("staging/sub/f")) << "x";
      RemoveOnSignal staging(dir.file("staging"));
      std::ofstream(kept) << "x";
      std::ofstream(released) << "x";
      RemoveOnSignal r(released);
      r.release();  // complete: must survive
      ::kill(::getpid(), sig);
      for (int i = 0; i < 500; ++i) ::usleep(10000);  // the watcher thread ends the process
      ::_exit(4);
    });
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == sig);
    CHECK_FALSE(fs::exists(dir.file("out.bin.partial")));
    CHECK_FALSE(fs::exists(dir.file("out.bin")));
    CHECK_FALSE(fs::exists(dir.file("staging")));
    CHECK(fs::exists(kept));
    CHECK(fs::exists(released));
  }
}

TEST_CASE("signal cleanup: a committed writer's file stays and an ignored signal stays ignored") {
  testing::TempDir dir;
  const int status = in_child([&] {
    std::signal(SIGHUP, SIG_IGN);  // as nohup leaves it
    auto w = AtomicFileWriter::create(dir.file("done.bin"));
    if (!w.ok() || !w->write("abc", 3).ok() || !w->commit().ok()) ::_exit(3);
    auto pending = AtomicFileWriter::create(dir.file("pending.bin"));
    if (!pending.ok()) ::_exit(3);
    ::kill(::getpid(), SIGHUP);  // ignored: nothing happens
    ::usleep(50000);
    if (!fs::exists(dir.file("pending.bin.partial"))) ::_exit(5);
    ::kill(::getpid(), SIGTERM);
    for (int i = 0; i < 500; ++i) ::usleep(10000);
    ::_exit(4);
  });
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK(fs::exists(dir.file("done.bin")));
  CHECK_FALSE(fs::exists(dir.file("pending.bin.partial")));
}

}  // namespace
}  // namespace moestream
