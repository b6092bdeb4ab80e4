// `moestream detokenize MODEL.mst|tokenizer.json --tokens "0 309 1234" [--skip-special]`:
// prints the text that token ids spell.
#include <cstdio>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "runtime/model_tokenizer.h"

namespace moestream::cli {
namespace {

int run_detokenize(int argc, char** argv) {
  ArgParser args("detokenize", "Print the text of token ids, using the tokenizer embedded in a "
                               ".mst model or a tokenizer.json file.");
  std::string model, tokens;
  bool skip_special = false;
  args.positional("MODEL", &model, "a .mst model or a tokenizer.json file");
  args.option("--tokens", &tokens, "IDS", "token ids separated by spaces or commas");
  args.require("--tokens");
  args.flag("--skip-special", &skip_special,
            "leave out special tokens such as <｜begin▁of▁sentence｜> and <｜end▁of▁sentence｜>");
  if (!args.parse(argc, argv)) return args.exit_code();
  auto ids = parse_token_list(tokens);
  if (!ids) {
    std::fprintf(stderr, "error: --tokens must be non-negative integers separated by spaces or "
                         "commas, got \"%s\"\n", tokens.c_str());
    return 2;
  }
  auto loaded = load_model_tokenizer(model);
  if (!loaded.ok()) return report_error(loaded.status());
  const Tokenizer& tokenizer = loaded->tokenizer;
  for (int32_t id : *ids) {
    if (id >= tokenizer.id_limit() || (tokenizer.token_bytes(id).empty() && !tokenizer.added_token(id))) {
      std::fprintf(stderr, "error: token id %d is not in the vocabulary (ids go up to %d)\n", id,
                   tokenizer.id_limit() - 1);
      return 1;
    }
  }
  DecodeOptions options;
  options.skip_special_tokens = skip_special;
  std::string text = tokenizer.decode(*ids, options);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

MOESTREAM_REGISTER_COMMAND("detokenize", "print the text of token ids", run_detokenize);

}  // namespace
}  // namespace moestream::cli
