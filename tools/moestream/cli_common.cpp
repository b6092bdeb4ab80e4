#include "cli_common.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "format/container_reader.h"

namespace moestream::cli {

int report_error(const Status& status) {
  std::fprintf(stderr, "error: %s\n", status.to_string().c_str());
  return 1;
}

int usage_error(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "moestream %s: %s\n(run 'moestream %s --help' for usage)\n", command.c_str(),
               message.c_str(), command.c_str());
  return 2;
}

int usage_error(const std::string& command, const Status& status) {
  return usage_error(command, status.message());
}

Result<ContainerWriterOptions> parse_compression(const std::string& text) {
  ContainerWriterOptions o;
  if (text.empty() || text == "none") return o;
  if (text.rfind("zstd", 0) != 0 || (text.size() > 4 && text[4] != ':')) {
    return invalid_argument("--compress takes none, zstd or zstd:LEVEL, not \"" + text + "\"");
  }
  o.compression = BlobCompression::kZstd;
  if (text.size() > 5) {
    try {
      size_t used = 0;
      o.zstd_level = std::stoi(text.substr(5), &used);
      if (used != text.size() - 5 || o.zstd_level < 1 || o.zstd_level > 19) throw 0;
    } catch (...) {
      return invalid_argument("--compress zstd:LEVEL needs a level from 1 to 19, not \"" + text + "\"");
    }
  }
  return o;
}

std::string join_command_line(int argc, char** argv) {
  std::string s = "moestream";
  for (int i = 0; i < argc; ++i) s += std::string(" ") + argv[i];
  return s;
}

Result<std::string> read_prompt_argument(const std::string& prompt, const std::string& prompt_file, bool from_file) {
  if (!from_file && prompt != "-") return prompt;
  const std::string path = from_file ? prompt_file : "-";
  if (path.empty()) return invalid_argument("--prompt-file needs a FILE ('-' for stdin)");
  std::ifstream in(path == "-" ? "/dev/stdin" : path, std::ios::binary);
  if (!in) return not_found("cannot open the prompt file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return io_error("cannot read the prompt from " + (path == "-" ? std::string("stdin") : path));
  return text.str();
}

Status check_context_fits(const std::string& model_path, int64_t prompt_tokens, int64_t generate) {
  MOESTREAM_ASSIGN_OR_RETURN(auto reader, ContainerReader::open(model_path));
  const int64_t context = reader->config().max_position_embeddings;
  if (context <= 0 || prompt_tokens + generate <= context) return ok_status();
  if (prompt_tokens > context) {
    return invalid_argument("the prompt has " + std::to_string(prompt_tokens) + " tokens; the model's context is " +
                            std::to_string(context));
  }
  return invalid_argument("-n takes 0 to " + std::to_string(context - prompt_tokens) + " here: the " +
                          std::to_string(prompt_tokens) + "-token prompt plus -n " + std::to_string(generate) +
                          " exceeds the model's context of " + std::to_string(context) + " tokens");
}

namespace {

namespace fs = std::filesystem;

// The absolute path with symlinks resolved as far as the path exists.
fs::path resolved(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? fs::absolute(path) : p;
}

bool is_within(const fs::path& inner, const fs::path& outer) {
  auto o = outer.begin(), i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // a trailing separator
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

}  // namespace

Status check_output_path(const std::string& path, const std::string& what, OutputKind kind, bool force,
                         const std::vector<std::string>& inputs) {
  if (path.empty()) return invalid_argument(what + " is empty");
  const fs::path out = resolved(path);
  std::error_code ec;
  for (const std::string& input : inputs) {
    if (input.empty()) continue;
    const fs::path in = resolved(input);
    const bool same = fs::exists(path, ec) && fs::equivalent(path, input, ec);
    if (same || out == in) {
      return invalid_argument(what + " " + path + " is the input " + input + "; write the output elsewhere");
    }
    if (fs::is_directory(in, ec) && is_within(out, in)) {
      return invalid_argument(what + " " + path + " is inside the input directory " + input +
                              "; write the output elsewhere");
    }
  }
  const auto status = fs::status(path, ec);
  if (fs::exists(status) && !fs::is_regular_file(status) && !fs::is_directory(status)) {
    if (kind == OutputKind::kDirectory) return invalid_argument(what + " " + path + " is not a directory");
    return ok_status();  // /dev/null, a FIFO, /dev/stdout: written in place, nothing to replace
  }
  if (fs::exists(status)) {
    const bool is_dir = fs::is_directory(status);
    if (kind == OutputKind::kFile && is_dir) return invalid_argument(what + " " + path + " is a directory");
    if (kind == OutputKind::kDirectory && !is_dir) {
      return invalid_argument(what + " " + path + " exists and is not a directory");
    }
    const bool empty_dir = is_dir && fs::is_empty(path, ec) && !ec;
    if (!empty_dir && !force) {
      return invalid_argument(what + " " + path + " already exists; pass --force to replace it");
    }
  }
  fs::path parent = out.parent_path();
  if (parent.empty()) parent = ".";
  if (!fs::is_directory(parent, ec)) {
    return not_found("cannot write " + what + " " + path + ": the directory " + parent.string() + " does not exist");
  }
  if (::access(parent.c_str(), W_OK | X_OK) != 0) {
    return errno_status(errno, "cannot write " + what + " " + path + " into " + parent.string());
  }
  return ok_status();
}

}  // namespace moestream::cli
