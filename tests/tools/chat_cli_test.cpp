// `moestream chat`: scripted through stdin (one message per line), and interactively under
// tmux (streaming, /think, Ctrl-C stops the answer and not the program, /save then /load).
#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/cli_runner.h"
#include "support/file_contents.h"
#include "support/temp_dir.h"

using namespace moestream::testing;

namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = 0; (pos = text.find(what, pos)) != std::string::npos; pos += what.size()) ++n;
  return n;
}

}  // namespace

TEST_CASE("chat from a script: answers, commands, /save and /load") {
  TempDir dir;
  const std::string model = dir.file("mini.mst");
  REQUIRE(run_cli("synth --preset mini --quiet --out " + model).exit_code == 0);
  const std::string input = dir.file("script.txt"), saved = dir.file("conv.json");
  {
    std::ofstream in(input);
    in << "Hello there\n/think\nWhat is 2+2?\n/frobnicate\n/system Be brief.\n/save " << saved
       << "\n/reset\n/load " << saved << "\nAnd 3+3?\n/stats\n";
  }
  const CliResult r = run_shell(std::string(MOESTREAM_CLI_PATH) + " chat " + model +
                                " --max-tokens 5 --max-context 512 < " + input, /*merge_stderr=*/false);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(count(r.output, "[5 tokens,") == 3);
  CHECK(r.output.find("thinking on") != std::string::npos);
  CHECK(r.output.find("unknown command /frobnicate") != std::string::npos);
  CHECK(r.output.find("loaded " + saved + " (4 messages)") != std::string::npos);
  CHECK(r.output.find("tokens generated in this chat") != std::string::npos);
  const auto conv = nlohmann::json::parse(read_file(saved));
  CHECK(conv["system"] == "Be brief.");
  CHECK(conv["thinking"] == true);
  CHECK(conv["messages"].size() == 4);
  CHECK(conv["messages"][0]["content"] == "Hello there");
}

TEST_CASE("chat under tmux: streaming, Ctrl-C stops the answer, the program goes on") {
  if (std::system("command -v tmux >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: tmux is not installed (scripts/test.sh installs it)");
    return;
  }
  TempDir dir;
  const std::string model = dir.file("mini.mst");
  REQUIRE(run_cli("synth --preset mini --quiet --out " + model).exit_code == 0);
  const std::string session = "moestream-chat-" + std::to_string(::getpid());
  auto tmux = [&](const std::string& args) { return run_shell("tmux " + args).output; };
  auto screen = [&] { return tmux("capture-pane -p -t " + session); };
  auto wait_for = [&](const std::string& text, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 50) {
      if (screen().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  tmux("new-session -d -x 200 -y 50 -s " + session + " '" + std::string(MOESTREAM_CLI_PATH) + " chat " + model +
       " --max-tokens 20000 --max-context 20100 --temperature 0'");
  REQUIRE(wait_for("/help for commands", 30000));
  tmux("send-keys -t " + session + " '/think' Enter");
  REQUIRE(wait_for("thinking on", 5000));
  tmux("send-keys -t " + session + " 'Tell me a very long story' Enter");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // it streams for a long time
  tmux("send-keys -t " + session + " C-c");
  CHECK(wait_for("stopped]", 10000));
  tmux("send-keys -t " + session + " '/stats' Enter");
  CHECK(wait_for("tokens generated in this chat", 5000));
  // History: the up arrow brings back the last line at the prompt.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const size_t before = count(screen(), "/stats");
  tmux("send-keys -t " + session + " Up");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(count(screen(), "/stats") == before + 1);
  tmux("send-keys -t " + session + " C-u");
  tmux("send-keys -t " + session + " '/exit' Enter");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  tmux("kill-session -t " + session + " 2>/dev/null");
}
