// A small flag parser shared by every subcommand: positionals, --flag, --opt VALUE (or
// --opt=VALUE), generated --help, and errors that say what was expected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moestream::cli {

class ArgParser {
 public:
  ArgParser(std::string command, std::string description);

  void positional(const std::string& name, std::string* out, const std::string& help,
                  bool required = true);
  // Collects every remaining positional (e.g. several trace files).
  void positional_list(const std::string& name, std::vector<std::string>* out,
                       const std::string& help, bool required = true);
  void flag(const std::string& name, bool* out, const std::string& help);
  void option(const std::string& name, std::string* out, const std::string& metavar,
              const std::string& help);
  void option(const std::string& name, int64_t* out, const std::string& metavar,
              const std::string& help);
  void option(const std::string& name, double* out, const std::string& metavar,
              const std::string& help);
  // The same with the accepted range checked at parse time: a value outside [min, max] is a
  // usage error naming the flag and the range.
  void option(const std::string& name, int64_t* out, const std::string& metavar,
              const std::string& help, int64_t min, int64_t max);
  void option(const std::string& name, double* out, const std::string& metavar,
              const std::string& help, double min, double max);
  // Marks an option declared above as required: shown in the usage line and as "(required)"
  // in the help, and its absence is a usage error.
  void require(const std::string& name);

  // Whether the option appeared on the command line (even with an empty value).
  bool given(const std::string& name) const;

  // Returns true when the command should run. Otherwise exit_code() is 0 (--help was
  // printed) or 2 (a usage error was printed to stderr).
  bool parse(int argc, char** argv);
  int exit_code() const { return exit_code_; }
  void print_help() const;

 private:
  enum class Kind { kFlag, kString, kInt, kDouble };
  struct Option {
    std::string name;
    Kind kind = Kind::kFlag;
    void* out = nullptr;
    std::string metavar;
    std::string help;
    bool has_range = false;
    double min = 0, max = 0;
    bool required = false;
    bool given = false;
  };
  struct Positional {
    std::string name;
    std::string* out = nullptr;
    std::vector<std::string>* list = nullptr;
    std::string help;
    bool required = true;
  };
  bool fail(const std::string& message);
  bool assign(const Option& opt, const std::string& value);
  Option* find(const std::string& name);
  Option& add(const std::string& name, Kind kind, void* out, const std::string& metavar, const std::string& help);

  std::string command_;
  std::string description_;
  std::vector<Option> options_;
  std::vector<Positional> positionals_;
  int exit_code_ = 0;
};

// Parses "0 309 1234" or "0,309,1234" into token ids.
std::optional<std::vector<int32_t>> parse_token_list(const std::string& text);
// "a, b,c" -> {"a", "b", "c"}: comma-separated items, spaces trimmed, empty items dropped.
std::vector<std::string> split_list(const std::string& text);
// "1,4,16" -> {1, 4, 16}: every item an integer in [1, max]; nullopt (and *bad = the first item
// that is not) otherwise.
std::optional<std::vector<int64_t>> parse_count_list(const std::string& text, int64_t max, std::string* bad);
// Parses "16G", "512M", "1.5GiB", "1000000" into bytes.
std::optional<uint64_t> parse_byte_size(const std::string& text);

}  // namespace moestream::cli
