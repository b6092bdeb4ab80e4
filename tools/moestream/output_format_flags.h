// --json and --json-schema FILE: the answer as one JSON object, or as JSON valid against a
// schema (the subset docs/structured-output.md lists). For run and chat they constrain every
// answer; for serve and batch they are the default response_format of requests that set none.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "arg_parser.h"
#include "platform/status.h"
#include "runtime/engine/engine.h"

namespace moestream::cli {

struct OutputFormatFlags {
  bool json = false;
  std::string json_schema;  // a file

  void add_to(ArgParser& args);
  // Reads and checks the schema file, once, after the flags are parsed: kInvalidArgument for an
  // unreadable file, bad JSON or an unsupported schema (named).
  Status load();
  // {"type": "json_object"} or {"type": "json_schema", ...}; nullopt without either flag.
  const std::optional<nlohmann::ordered_json>& response_format() const { return response_format_; }
  // The grammar for an answer of `engine` (null without either flag); `thinking`: the answer
  // starts with free reasoning closed by </think>.
  Result<std::shared_ptr<TokenGrammar>> grammar(const Engine& engine, bool thinking) const;

 private:
  std::optional<nlohmann::ordered_json> response_format_;
};

}  // namespace moestream::cli
