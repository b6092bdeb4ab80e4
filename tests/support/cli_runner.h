// Runs the moestream CLI (or any shell command) the way a user would and captures its output
// and exit status, for the end-to-end tests in tests/tools/.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace moestream::testing {

struct CliResult {
  int exit_code = -1;  // 128 + signal number when the process was killed
  std::string output;  // stdout, plus stderr unless it was discarded
};

inline CliResult run_shell(const std::string& command, bool merge_stderr = true) {
  CliResult r;
  FILE* pipe = ::popen((command + (merge_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// `moestream ARGS`, with the binary this build produced.
inline CliResult run_cli(const std::string& args, bool merge_stderr = true) {
  return run_shell(std::string(MOESTREAM_CLI_PATH) + " " + args, merge_stderr);
}

// `moestream synth --preset tiny --experts N` into `path` (a test's model); returns `path`.
inline std::string synth_tiny_model(const std::string& path, int experts) {
  const CliResult r = run_cli("synth --preset tiny --experts " + std::to_string(experts) + " --quiet --out " + path);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  return path;
}

}  // namespace moestream::testing
