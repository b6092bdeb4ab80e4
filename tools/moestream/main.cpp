// moestream: one CLI, one subcommand per file (see command_registry.h). The grammar every
// command follows (inputs, outputs, --force, sizes, exit codes) is docs/cli.md.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "command_registry.h"
#include "platform/status.h"

namespace {

void print_usage(std::FILE* out) {
  auto commands = moestream::cli::command_registry();
  std::sort(commands.begin(), commands.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::fprintf(out,
               "moestream %s: run DeepSeek-V3/V3.1 with experts streamed from NVMe\n\n"
               "usage: moestream COMMAND [args]   ('moestream help COMMAND' or 'moestream COMMAND --help' "
               "for details)\n       moestream --version\n\ncommands:\n",
               MOESTREAM_VERSION_STRING);
  for (const auto& c : commands) std::fprintf(out, "  %-12s %s\n", c.name.c_str(), c.summary.c_str());
  std::fprintf(out, "\nexit codes: 0 ok, 1 runtime error, 2 usage error (docs/cli.md)\n");
}

const moestream::cli::Command* find_command(const char* name) {
  for (const auto& c : moestream::cli::command_registry()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// Output that never reached its file (a full disk under `tokenize > file`) is an error: the
// exit status must not say 0. Returns the exit code to use.
int check_stdout(int code) {
  errno = 0;
  const bool failed = std::fflush(stdout) != 0 || std::ferror(stdout) != 0;
  if (!failed) return code;
  const int err = errno != 0 ? errno : EIO;
  std::fprintf(stderr, "error: %s\n",
               moestream::errno_status(err, "cannot write to standard output").to_string().c_str());
  return code == 0 ? 1 : code;
}

int dispatch(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const std::string first = argv[1];
  if (first == "--help" || first == "-h") {
    print_usage(stdout);
    return 0;
  }
  if (first == "--version" || first == "version") {
    std::printf("moestream %s\n", MOESTREAM_VERSION_STRING);
    return 0;
  }
  if (first == "help") {
    if (argc < 3) {
      print_usage(stdout);
      return 0;
    }
    const auto* c = find_command(argv[2]);
    if (c == nullptr) {
      std::fprintf(stderr, "moestream: unknown command '%s'\n\n", argv[2]);
      print_usage(stderr);
      return 2;
    }
    char help[] = "--help";
    char* args[] = {argv[2], help, nullptr};
    return c->run(2, args);
  }
  if (const auto* c = find_command(argv[1])) return c->run(argc - 1, argv + 1);
  std::fprintf(stderr, "moestream: unknown command '%s'\n\n", argv[1]);
  print_usage(stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) { return check_stdout(dispatch(argc, argv)); }
