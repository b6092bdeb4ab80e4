// `moestream chat MODEL.mst [engine flags]`: talk to the model in the terminal. The answer
// streams as it is made (the reasoning of V3.1's thinking mode dimmed, or hidden); commands:
// /think, /no_think, /hide-thinking, /show-thinking, /system TEXT, /reset, /save FILE,
// /load FILE, /stats, /help, /exit. Ctrl-C stops the answer, not the program. With stdin not
// a terminal it reads one message per line (for scripts). Earlier turns come back from the
// engine's prefix cache, so a long conversation does not recompute its past.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include <readline.h>  // libedit's readline: line editing and history on a terminal

#include "api/json_body.h"
#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "engine_flags.h"
#include "output_format_flags.h"
#include "runtime/engine/engine.h"
#include "text/chat/chat_output_parser.h"

namespace moestream::cli {
namespace {

std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted = true; }

struct Conversation {
  std::string system;
  std::vector<ChatMessage> turns;
  bool thinking = false;

  std::vector<ChatMessage> messages() const {
    std::vector<ChatMessage> all;
    if (!system.empty()) {
      ChatMessage s;
      s.role = "system";
      s.content = system;
      all.push_back(s);
    }
    all.insert(all.end(), turns.begin(), turns.end());
    return all;
  }
};

Status save(const Conversation& c, const std::string& path) {
  nlohmann::ordered_json j;
  j["system"] = c.system;
  j["thinking"] = c.thinking;
  j["messages"] = nlohmann::ordered_json::array();
  for (const ChatMessage& m : c.turns) j["messages"].push_back({{"role", m.role}, {"content", m.content.value_or("")}});
  const std::string temp = path + ".partial";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << j.dump(2) << "\n";
    out.flush();
    if (!out) return io_error("cannot write " + temp);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) return io_error("cannot rename " + temp + " to " + path);
  return ok_status();
}

Status load(Conversation* c, const std::string& path) {
  std::ifstream in(path);
  if (!in) return not_found("cannot open " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto parsed = api::parse_json_body(text, size_t{64} << 20);
  if (!parsed.ok()) return corrupt(path + ": " + parsed.status().message());
  const nlohmann::ordered_json& j = *parsed;
  if (!j.is_object() || !j.contains("messages")) return corrupt(path + ": not a saved conversation");
  auto messages = chat_messages_from_json(j["messages"]);
  if (!messages.ok()) return messages.status().with_context(path);
  c->turns = std::move(messages).value();
  c->system = j.value("system", std::string());
  c->thinking = j.value("thinking", false);
  return ok_status();
}

int run_chat(int argc, char** argv) {
  ArgParser args("chat", "Talk to the model in the terminal; /help lists the commands.");
  std::string model_path, system;
  double temperature = 0.7, top_p = 0.95;
  int64_t max_tokens = 1024, seed = 0;
  bool thinking = false;
  args.positional("MODEL.mst", &model_path, "the model container");
  args.option("--system", &system, "TEXT", "system prompt");
  args.option("--temperature", &temperature, "T", "sampling temperature (default 0.7; 0 = greedy)");
  args.option("--top-p", &top_p, "P", "nucleus sampling (default 0.95)");
  args.option("--max-tokens", &max_tokens, "N", "longest answer (default 1024)");
  args.option("--seed", &seed, "S", "random seed (default 0)");
  args.flag("--think", &thinking, "start in V3.1 thinking mode");
  EngineFlags engine_flags;
  engine_flags.parallel = 1;
  engine_flags.add_to(args);
  OutputFormatFlags output_format;
  output_format.add_to(args);
  if (!args.parse(argc, argv)) return args.exit_code();
  if (Status s = output_format.load(); !s.ok()) {
    std::fprintf(stderr, "moestream chat: %s\n", s.message().c_str());
    return 2;
  }
  if (max_tokens < 1) {
    std::fprintf(stderr, "moestream chat: --max-tokens must be >= 1\n");
    return 2;
  }
  auto options = engine_flags.to_options(args);
  if (!options.ok()) {
    std::fprintf(stderr, "moestream chat: %s\n", options.status().message().c_str());
    return 2;
  }
  SamplingParams sampling;
  sampling.temperature = temperature;
  sampling.top_p = top_p;
  sampling.seed = static_cast<uint64_t>(seed);
  if (Status s = sampling.check(); !s.ok()) {
    std::fprintf(stderr, "moestream chat: %s\n", s.message().c_str());
    return 2;
  }
  auto engine = Engine::open(model_path, *options);
  if (!engine.ok()) return report_error(engine.status());
  Engine& e = **engine;
  if (!e.tokenizer()) return report_error(not_found(model_path + " has no tokenizer: chat needs one"));
  const bool v31 = e.chat_template() == ChatTemplateKind::kDeepSeekV31;
  const bool tty = ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);  // no SA_RESTART: Ctrl-C at the prompt interrupts the read

  Conversation conv;
  conv.system = system;
  conv.thinking = thinking && v31;
  bool show_thinking = true;
  uint64_t total_tokens = 0;
  double total_decode_s = 0;
  if (tty) {
    std::printf("moestream chat: %s (%s template%s). /help for commands, Ctrl-C stops an answer, /exit quits.\n",
                model_path.c_str(), std::string(chat_template_name(e.chat_template())).c_str(),
                v31 ? ", /think for thinking mode" : "");
  }
  std::string line;
  while (true) {
    g_interrupted = false;
    if (tty) {
      // Line editing and history (arrow keys recall earlier messages).
      std::printf("\n");
      char* read = ::readline(conv.thinking ? "think> " : "> ");
      if (read == nullptr) {
        if (g_interrupted) continue;  // Ctrl-C at the prompt: a fresh prompt, not an exit
        break;
      }
      line = read;
      std::free(read);
      if (!line.empty()) ::add_history(line.c_str());
    } else if (!std::getline(std::cin, line)) {
      break;
    }
    if (line.empty()) continue;
    if (line[0] == '/') {
      const std::string command = line.substr(0, line.find(' '));
      const std::string rest = line.find(' ') == std::string::npos ? "" : line.substr(line.find(' ') + 1);
      if (command == "/exit" || command == "/quit") break;
      if (command == "/help") {
        std::printf("/think, /no_think     V3.1 thinking mode on or off (from the next message)\n"
                    "/hide-thinking, /show-thinking   hide or show the reasoning\n"
                    "/system TEXT          set the system prompt\n/reset                forget the conversation\n"
                    "/save FILE, /load FILE   the conversation as JSON (its KV comes back from the prefix cache)\n"
                    "/stats                tokens, speed and the expert cache\n/exit                 quit\n");
      } else if (command == "/think" || command == "/no_think") {
        if (!v31) std::printf("this model's template (V3) has no thinking mode\n");
        else conv.thinking = command == "/think", std::printf("thinking %s\n", conv.thinking ? "on" : "off");
      } else if (command == "/hide-thinking" || command == "/show-thinking") {
        show_thinking = command == "/show-thinking";
      } else if (command == "/system") {
        conv.system = rest;
        std::printf("system prompt set\n");
      } else if (command == "/reset") {
        conv.turns.clear();
        std::printf("conversation cleared\n");
      } else if (command == "/save" || command == "/load") {
        if (rest.empty()) {
          std::printf("%s needs a file name\n", command.c_str());
          continue;
        }
        Status s = command == "/save" ? save(conv, rest) : load(&conv, rest);
        std::printf(s.ok() ? "%s %s (%zu messages)\n" : "error: %s %s (%zu)\n",
                    command == "/save" ? "saved" : "loaded", s.ok() ? rest.c_str() : s.message().c_str(),
                    conv.turns.size());
      } else if (command == "/stats") {
        const EngineStats st = e.stats();
        std::printf("%llu tokens generated in this chat (%.1f tok/s); prefix cache: %llu tokens reused, %llu blocks in RAM; "
                    "expert bytes read %llu\n",
                    static_cast<unsigned long long>(total_tokens), total_decode_s > 0 ? static_cast<double>(total_tokens) / total_decode_s : 0.0,
                    static_cast<unsigned long long>(st.prefix_cache.hit_tokens),
                    static_cast<unsigned long long>(st.prefix_cache.blocks_in_ram),
                    static_cast<unsigned long long>(st.expert_bytes_read));
        const std::string report = e.cache_report();
        if (!report.empty()) std::printf("%s", report.c_str());
      } else {
        std::printf("unknown command %s (/help lists them)\n", command.c_str());
      }
      continue;
    }
    ChatMessage user;
    user.role = "user";
    user.content = line;
    conv.turns.push_back(user);
    ChatTemplateOptions chat;
    chat.thinking = conv.thinking;
    auto prompt = e.chat_prompt(conv.messages(), chat);
    if (!prompt.ok()) {
      std::printf("error: %s\n", prompt.status().message().c_str());
      conv.turns.pop_back();
      continue;
    }
    GenerationRequest request;
    request.prompt = std::move(prompt).value();
    request.sampling = sampling;
    request.max_tokens = max_tokens;
    auto grammar = output_format.grammar(e, conv.thinking);
    if (!grammar.ok()) {
      std::printf("error: %s\n", grammar.status().message().c_str());
      conv.turns.pop_back();
      continue;
    }
    request.grammar = *grammar;
    ChatOutputParser parser(conv.thinking);
    bool in_reasoning = false;
    auto print = [&](const ChatOutputDelta& d) {
      if (!d.reasoning.empty() && show_thinking) {
        if (!in_reasoning && tty) std::printf("\x1b[2m");
        in_reasoning = true;
        std::fwrite(d.reasoning.data(), 1, d.reasoning.size(), stdout);
      }
      if (!d.content.empty()) {
        if (in_reasoning) std::printf(tty ? "\x1b[0m\n" : "\n");
        in_reasoning = false;
        std::fwrite(d.content.data(), 1, d.content.size(), stdout);
      }
      for (const ChatToolCall& call : d.tool_calls) std::printf("\n[tool call %s(%s)]\n", call.name.c_str(), call.arguments.c_str());
      std::fflush(stdout);
    };
    request.on_token = [&](const TokenEvent& ev) { print(parser.push(ev.text)); };
    RequestHandle handle = e.submit(std::move(request));
    while (!handle.done()) {
      if (g_interrupted) handle.cancel();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const GenerationResult r = handle.wait();
    print(parser.finish());
    if (in_reasoning && tty) std::printf("\x1b[0m");
    if (r.finish == FinishReason::kError) {
      std::printf("\nerror: %s\n", r.error.message().c_str());
      conv.turns.pop_back();
      continue;
    }
    ChatMessage answer;
    answer.role = "assistant";
    answer.content = parser.content();
    conv.turns.push_back(answer);
    total_tokens += static_cast<uint64_t>(r.usage.completion_tokens);
    total_decode_s += r.timings.decode_s;
    const double accesses = r.experts.hits + r.experts.misses;
    std::printf("\n[%lld tokens, %.1f tok/s, prompt cache %lld/%lld tokens, expert hits %.0f%%%s]\n",
                static_cast<long long>(r.usage.completion_tokens), r.timings.tokens_per_second(),
                static_cast<long long>(r.usage.prompt_cache_hit_tokens), static_cast<long long>(r.usage.prompt_tokens),
                accesses > 0 ? 100.0 * r.experts.hits / accesses : 100.0,
                r.finish == FinishReason::kCancelled ? ", stopped" : r.finish == FinishReason::kLength ? ", length limit" : "");
    std::fflush(stdout);
  }
  return 0;
}

MOESTREAM_REGISTER_COMMAND("chat", "talk to the model in the terminal (streaming, thinking mode, /save and /load)", run_chat);

}  // namespace
}  // namespace moestream::cli
