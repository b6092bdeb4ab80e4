#include "arg_parser.h"

#include <cassert>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace moestream::cli {

ArgParser::ArgParser(std::string command, std::string description)
    : command_(std::move(command)), description_(std::move(description)) {}

void ArgParser::positional(const std::string& name, std::string* out, const std::string& help,
                           bool required) {
  positionals_.push_back({name, out, nullptr, help, required});
}

void ArgParser::positional_list(const std::string& name, std::vector<std::string>* out,
                                const std::string& help, bool required) {
  positionals_.push_back({name, nullptr, out, help, required});
}

void ArgParser::flag(const std::string& name, bool* out, const std::string& help) {
  add(name, Kind::kFlag, out, "", help);
}

void ArgParser::option(const std::string& name, std::string* out, const std::string& metavar,
                       const std::string& help) {
  add(name, Kind::kString, out, metavar, help);
}

void ArgParser::option(const std::string& name, int64_t* out, const std::string& metavar,
                       const std::string& help) {
  add(name, Kind::kInt, out, metavar, help);
}

void ArgParser::option(const std::string& name, double* out, const std::string& metavar,
                       const std::string& help) {
  add(name, Kind::kDouble, out, metavar, help);
}

void ArgParser::option(const std::string& name, int64_t* out, const std::string& metavar,
                       const std::string& help, int64_t min, int64_t max) {
  Option& o = add(name, Kind::kInt, out, metavar, help);
  o.has_range = true;
  o.min = static_cast<double>(min);
  o.max = static_cast<double>(max);
}

void ArgParser::option(const std::string& name, double* out, const std::string& metavar,
                       const std::string& help, double min, double max) {
  Option& o = add(name, Kind::kDouble, out, metavar, help);
  o.has_range = true;
  o.min = min;
  o.max = max;
}

ArgParser::Option& ArgParser::add(const std::string& name, Kind kind, void* out, const std::string& metavar,
                                  const std::string& help) {
  Option o;
  o.name = name;
  o.kind = kind;
  o.out = out;
  o.metavar = metavar;
  o.help = help;
  options_.push_back(std::move(o));
  return options_.back();
}

ArgParser::Option* ArgParser::find(const std::string& name) {
  for (auto& o : options_) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

void ArgParser::require(const std::string& name) {
  Option* o = find(name);
  assert(o != nullptr && "require() of an undeclared option");
  if (o != nullptr) o->required = true;
}

bool ArgParser::given(const std::string& name) const {
  for (const auto& o : options_) {
    if (o.name == name) return o.given;
  }
  return false;
}

void ArgParser::print_help() const {
  std::string usage = "usage: moestream " + command_;
  for (const auto& p : positionals_) {
    std::string n = p.list ? p.name + "..." : p.name;
    usage += p.required ? " " + n : " [" + n + "]";
  }
  for (const auto& o : options_) {
    if (o.required) usage += " " + o.name + (o.metavar.empty() ? "" : " " + o.metavar);
  }
  if (!options_.empty()) usage += " [options]";
  std::printf("%s\n\n%s\n", usage.c_str(), description_.c_str());
  if (!positionals_.empty()) {
    std::printf("\narguments:\n");
    for (const auto& p : positionals_) std::printf("  %-24s %s\n", p.name.c_str(), p.help.c_str());
  }
  std::printf("\noptions:\n");
  for (const auto& o : options_) {
    std::string left = o.name + (o.metavar.empty() ? "" : " " + o.metavar);
    std::printf("  %-24s %s%s\n", left.c_str(), o.help.c_str(), o.required ? " (required)" : "");
  }
  std::printf("  %-24s %s\n", "-h, --help", "show this help");
}

bool ArgParser::fail(const std::string& message) {
  std::fprintf(stderr, "moestream %s: %s\n(run 'moestream %s --help' for usage)\n",
               command_.c_str(), message.c_str(), command_.c_str());
  exit_code_ = 2;
  return false;
}

bool ArgParser::assign(const Option& opt, const std::string& value) {
  switch (opt.kind) {
    case Kind::kFlag:
      *static_cast<bool*>(opt.out) = true;
      return true;
    case Kind::kString:
      *static_cast<std::string*>(opt.out) = value;
      return true;
    case Kind::kInt: {
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno != 0 ||
          (opt.has_range && (static_cast<double>(v) < opt.min || static_cast<double>(v) > opt.max))) {
        std::string range = opt.has_range ? " from " + std::to_string(static_cast<long long>(opt.min)) + " to " +
                                                std::to_string(static_cast<long long>(opt.max))
                                          : "";
        return fail(opt.name + " takes an integer" + range + ", not '" + value + "'");
      }
      *static_cast<int64_t*>(opt.out) = v;
      return true;
    }
    case Kind::kDouble: {
      char* end = nullptr;
      double v = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !std::isfinite(v) || (opt.has_range && (v < opt.min || v > opt.max))) {
        std::string range;
        if (opt.has_range) {
          char buf[96];
          std::snprintf(buf, sizeof buf, " from %g to %g", opt.min, opt.max);
          range = buf;
        }
        return fail(opt.name + " takes a number" + range + ", not '" + value + "'");
      }
      *static_cast<double*>(opt.out) = v;
      return true;
    }
  }
  return false;
}

bool ArgParser::parse(int argc, char** argv) {
  std::vector<std::string> positional_values;
  bool only_positionals = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!only_positionals && (arg == "-h" || arg == "--help")) {
      print_help();
      exit_code_ = 0;
      return false;
    }
    if (!only_positionals && arg == "--") {
      only_positionals = true;
      continue;
    }
    if (!only_positionals && arg.size() > 1 && arg[0] == '-' && !(arg[1] >= '0' && arg[1] <= '9')) {
      std::string name = arg, value;
      bool has_inline = false;
      if (auto eq = arg.find('='); eq != std::string::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        has_inline = true;
      }
      Option* match = find(name);
      if (match == nullptr) return fail("unknown option " + name);
      match->given = true;
      if (match->kind == Kind::kFlag) {
        if (has_inline) return fail(name + " takes no value");
        assign(*match, "");
        continue;
      }
      if (!has_inline) {
        if (i + 1 >= argc) return fail(name + " needs a value (" + match->metavar + ")");
        value = argv[++i];
      }
      if (!assign(*match, value)) return false;
      continue;
    }
    positional_values.push_back(arg);
  }
  size_t next = 0;
  for (const auto& p : positionals_) {
    if (p.list) {
      while (next < positional_values.size()) p.list->push_back(positional_values[next++]);
      if (p.required && p.list->empty()) return fail("missing " + p.name);
      continue;
    }
    if (next < positional_values.size()) {
      *p.out = positional_values[next++];
    } else if (p.required) {
      return fail("missing " + p.name);
    }
  }
  if (next < positional_values.size()) return fail("unexpected argument '" + positional_values[next] + "'");
  for (const auto& o : options_) {
    if (o.required && !o.given) return fail(o.name + " " + o.metavar + " is required");
  }
  return true;
}

std::optional<std::vector<int32_t>> parse_token_list(const std::string& text) {
  std::vector<int32_t> ids;
  const char* p = text.c_str();
  while (*p != '\0') {
    if (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n' || *p == '[' || *p == ']') {
      ++p;
      continue;
    }
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(p, &end, 10);
    if (end == p || errno != 0 || v < 0 || v > INT32_MAX) return std::nullopt;
    ids.push_back(static_cast<int32_t>(v));
    p = end;
  }
  return ids;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

std::optional<std::vector<int64_t>> parse_count_list(const std::string& text, int64_t max, std::string* bad) {
  std::vector<int64_t> out;
  for (const std::string& item : split_list(text)) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (*end != '\0' || errno != 0 || v < 1 || v > max) {
      *bad = item;
      return std::nullopt;
    }
    out.push_back(v);
  }
  return out;
}

std::optional<uint64_t> parse_byte_size(const std::string& text) {
  char* end = nullptr;
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || v < 0 || !std::isfinite(v)) return std::nullopt;
  std::string suffix(end);
  for (auto& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double mult = 1;
  if (suffix.empty() || suffix == "B") mult = 1;
  else if (suffix == "K" || suffix == "KB" || suffix == "KIB") mult = 1024.0;
  else if (suffix == "M" || suffix == "MB" || suffix == "MIB") mult = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "GB" || suffix == "GIB") mult = 1024.0 * 1024 * 1024;
  else if (suffix == "T" || suffix == "TB" || suffix == "TIB") mult = 1024.0 * 1024 * 1024 * 1024;
  else return std::nullopt;
  const double bytes = v * mult;
  if (bytes >= 18446744073709551616.0) return std::nullopt;  // 2^64: 1e30 is not a size
  return static_cast<uint64_t>(bytes);
}

}  // namespace moestream::cli
