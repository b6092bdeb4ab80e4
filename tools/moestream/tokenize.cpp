// `moestream tokenize MODEL.mst|tokenizer.json (--text-file F | --text S) [--json] [--bos]`:
// prints the token ids of a text, separated by spaces.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "runtime/model_tokenizer.h"
#include "text/tokenizer/utf8.h"

namespace moestream::cli {
namespace {

Result<std::string> read_text_argument(const std::string& file, const std::string& text) {
  if (!file.empty() && !text.empty()) return invalid_argument("pass --text-file or --text, not both");
  if (file.empty()) return text;
  std::ifstream in(file == "-" ? "/dev/stdin" : file, std::ios::binary);
  if (!in) return not_found("cannot open --text-file " + file);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

int run_tokenize(int argc, char** argv) {
  ArgParser args("tokenize", "Print the token ids of a text (space separated), using the tokenizer "
                             "embedded in a .mst model or a tokenizer.json file.");
  std::string model, text_file, text;
  bool json = false, bos = false, plain = false;
  args.positional("MODEL", &model, "a .mst model or a tokenizer.json file");
  args.option("--text-file", &text_file, "FILE", "the text to encode, read as bytes ('-' for stdin)");
  args.option("--text", &text, "TEXT", "the text to encode, given inline");
  args.flag("--json", &json, "print {\"ids\": [...], \"tokens\": [...]} instead of bare ids");
  args.flag("--bos", &bos, "prepend the BOS token <｜begin▁of▁sentence｜>");
  args.flag("--no-added-tokens", &plain,
            "encode added-token text such as <｜User｜> as plain text instead of as one token");
  if (!args.parse(argc, argv)) return args.exit_code();
  if (text_file.empty() && text.empty()) {
    std::fprintf(stderr, "error: tokenize needs --text-file FILE or --text TEXT\n");
    return 2;
  }
  auto input = read_text_argument(text_file, text);
  if (!input.ok()) return report_error(input.status());
  auto loaded = load_model_tokenizer(model);
  if (!loaded.ok()) return report_error(loaded.status());
  const Tokenizer& tokenizer = loaded->tokenizer;
  EncodeOptions options;
  options.add_bos = bos;
  options.match_added_tokens = !plain;
  std::vector<int32_t> ids = tokenizer.encode(*input, options);
  if (json) {
    nlohmann::json tokens = nlohmann::json::array();
    for (int32_t id : ids) tokens.push_back(utf8::sanitize(tokenizer.token_bytes(id)));
    nlohmann::json out = {{"ids", ids}, {"tokens", tokens}, {"count", ids.size()}};
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) line.push_back(' ');
    line += std::to_string(ids[i]);
  }
  std::printf("%s\n", line.c_str());
  return 0;
}

MOESTREAM_REGISTER_COMMAND("tokenize", "print the token ids of a text", run_tokenize);

}  // namespace
}  // namespace moestream::cli
