// `moestream template MODEL.mst|tokenizer.json --messages F.json [--thinking] [--tools F.json]
//  [--template v3|v3.1] [--no-generation-prompt] [--ids]`: prints the prompt the chat template
// renders for a conversation (followed by one newline), or its token ids.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "text/chat/chat_template.h"
#include "platform/json_limits.h"
#include "runtime/model_tokenizer.h"

namespace moestream::cli {
namespace {

Result<nlohmann::ordered_json> read_json_file(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found(std::string("cannot open ") + flag + " file " + path);
  std::error_code ec;  // refuse a huge file before reading it (the limit check repeats on the text)
  if (const auto size = std::filesystem::file_size(path, ec); !ec && size > json_limits::kChatRequest.max_bytes) {
    return invalid_argument(std::string(flag) + " file " + path + " is too large: " + std::to_string(size) +
                            " bytes, the limit is " + std::to_string(json_limits::kChatRequest.max_bytes));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_json_with_limits<nlohmann::ordered_json>(text.str(), json_limits::kChatRequest,
                                                        std::string(flag) + " file " + path);
}

int run_template(int argc, char** argv) {
  ArgParser args("template", "Render a conversation with the model's chat template and print the "
                             "prompt (as the model will see it).");
  std::string model, messages_path, tools_path, template_name = "auto";
  bool thinking = false, no_prompt = false, ids = false;
  args.positional("MODEL", &model, "a .mst model or a tokenizer.json file");
  args.option("--messages", &messages_path, "FILE",
              "JSON: a list of {role, content, tool_calls?} messages, or a chat request object "
              "with \"messages\" (and optionally \"tools\")");
  args.require("--messages");
  args.flag("--thinking", &thinking, "V3.1 thinking mode: the prompt ends with <think>");
  args.option("--tools", &tools_path, "FILE", "JSON list of OpenAI-style tool definitions (V3.1)");
  args.option("--template", &template_name, "NAME",
              "v3, v3.1 or auto (recognize the model's template; default)");
  args.flag("--no-generation-prompt", &no_prompt, "do not end with the assistant turn opener");
  args.flag("--ids", &ids, "print the prompt's token ids instead of its text");
  if (!args.parse(argc, argv)) return args.exit_code();
  if (template_name != "auto" && !parse_chat_template_name(template_name).ok()) {
    return usage_error("template", "--template takes v3, v3.1 or auto, not '" + template_name + "'");
  }
  auto request = read_json_file(messages_path, "--messages");
  if (!request.ok()) return report_error(request.status());
  nlohmann::ordered_json messages_json = *request, tools_json;
  if (request->is_object()) {
    messages_json = request->value("messages", nlohmann::ordered_json());
    tools_json = request->value("tools", nlohmann::ordered_json());
  }
  if (!tools_path.empty()) {
    auto tools = read_json_file(tools_path, "--tools");
    if (!tools.ok()) return report_error(tools.status());
    tools_json = *tools;
  }
  auto messages = chat_messages_from_json(messages_json);
  if (!messages.ok()) return report_error(messages.status().with_context(messages_path));
  auto tools = chat_tools_from_json(tools_json);
  if (!tools.ok()) return report_error(tools.status());

  auto loaded = load_model_tokenizer(model);
  if (!loaded.ok()) return report_error(loaded.status());
  const Tokenizer& tokenizer = loaded->tokenizer;
  ChatTemplateKind kind = chat_template_kind_of(*loaded);
  if (template_name != "auto") {
    auto parsed = parse_chat_template_name(template_name);
    if (!parsed.ok()) return report_error(parsed.status());
    kind = *parsed;
  }
  ChatTemplateOptions options;
  options.add_generation_prompt = !no_prompt;
  options.thinking = thinking;
  options.tools = std::move(tools).value();
  auto prompt = render_chat(kind, *messages, options);
  if (!prompt.ok()) return report_error(prompt.status());
  if (ids) {
    std::string line;
    for (int32_t id : tokenizer.encode(*prompt)) {
      if (!line.empty()) line.push_back(' ');
      line += std::to_string(id);
    }
    std::printf("%s\n", line.c_str());
    return 0;
  }
  std::fwrite(prompt->data(), 1, prompt->size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

MOESTREAM_REGISTER_COMMAND("template", "render a conversation with the model's chat template",
                           run_template);

}  // namespace
}  // namespace moestream::cli
