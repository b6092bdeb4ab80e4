// `moestream batch MODEL.mst --input requests.jsonl --output results.jsonl [--resume]`: runs an
// OpenAI Batch file (one {"custom_id", "method", "url", "body"} per line, body as for
// /v1/chat/completions) through the engine, all requests batched together, and writes one
// result line per request ({"id", "custom_id", "response": {"status_code", "body"}, "error"}).
// Results go to OUTPUT.partial as they are written and the file is renamed at the end, so an
// interrupted run loses nothing: --resume keeps what is there and skips those custom_ids.
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "api/chat_completion.h"
#include "api/json_body.h"
#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "engine_flags.h"
#include "output_format_flags.h"
#include "platform/clock.h"
#include "platform/progress_bar.h"
#include "runtime/engine/engine.h"

namespace moestream::cli {
namespace {

using json = nlohmann::ordered_json;

struct Pending {
  uint64_t line = 0;
  std::string custom_id;
  api::ChatCompletion completion;
  RequestHandle handle;
  std::shared_ptr<std::vector<TokenEvent>> events;
};

json result_line(const std::string& id, const json& custom_id, const json& response, const json& error) {
  json line;
  line["id"] = id;
  line["custom_id"] = custom_id;
  line["response"] = response;
  line["error"] = error;
  return line;
}

// custom_ids of the complete lines of a previous output (a torn last line is dropped).
std::set<std::string> finished_ids(const std::string& path, std::vector<std::string>* lines) {
  std::set<std::string> done;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("custom_id") || !j["custom_id"].is_string()) continue;
    done.insert(j["custom_id"].get<std::string>());
    lines->push_back(line);
  }
  return done;
}

int run_batch(int argc, char** argv) {
  ArgParser args("batch", "Run an OpenAI Batch file of chat completions through the engine, all "
                          "requests batched together, and write one result line per request.");
  std::string model_path, input, output;
  bool resume = false, force = false, quiet = false;
  args.positional("MODEL.mst", &model_path, "the model container");
  args.option("--input", &input, "FILE", "requests, one JSON object per line (required)");
  args.option("--output", &output, "FILE", "results, one JSON object per line (required)");
  args.flag("--resume", &resume, "keep the results already in OUTPUT (or OUTPUT.partial) and skip their custom_ids");
  args.flag("--force", &force, "overwrite an existing OUTPUT");
  args.flag("--quiet", &quiet, "no progress bar");
  EngineFlags engine_flags;
  engine_flags.add_to(args);
  OutputFormatFlags output_format;
  output_format.add_to(args);
  if (!args.parse(argc, argv)) return args.exit_code();
  if (Status s = output_format.load(); !s.ok()) {
    std::fprintf(stderr, "moestream batch: %s\n", s.message().c_str());
    return 2;
  }
  if (input.empty() || output.empty()) {
    std::fprintf(stderr, "moestream batch: --input and --output are required (see --help)\n");
    return 2;
  }
  auto options = engine_flags.to_options(args);
  if (!options.ok()) {
    std::fprintf(stderr, "moestream batch: %s\n", options.status().message().c_str());
    return 2;
  }
  std::ifstream in(input);
  if (!in) return report_error(not_found("--input " + input + ": cannot open"));
  const std::string partial = output + ".partial";
  std::error_code ec;
  std::vector<std::string> kept;
  std::set<std::string> done;
  if (resume) {
    done = finished_ids(std::filesystem::exists(partial, ec) ? partial : output, &kept);
  } else if (std::filesystem::exists(output, ec) && !force) {
    std::fprintf(stderr, "moestream batch: %s exists; pass --resume to continue it or --force to replace it\n",
                 output.c_str());
    return 2;
  }
  std::ofstream out(partial, std::ios::trunc);
  if (!out) return report_error(io_error("--output " + output + ": cannot write " + partial));
  for (const std::string& line : kept) out << line << '\n';
  out.flush();

  auto engine = Engine::open(model_path, *options);
  if (!engine.ok()) return report_error(engine.status());
  Engine& e = **engine;

  const int64_t created = static_cast<int64_t>(std::time(nullptr));
  std::vector<Pending> pending;
  std::set<std::string> seen = done;
  uint64_t line_no = 0, bad = 0, skipped = 0;
  auto write = [&](const json& line) {
    // Token pieces in logprobs may be partial UTF-8: replaced, never an exception.
    out << line.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    out.flush();
  };
  std::string text;
  while (std::getline(in, text)) {
    ++line_no;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string id = "batch_req_" + std::to_string(line_no);
    auto parsed = api::parse_json_body(text, size_t{64} << 20);  // the request limits (depth, size, members)
    json j = parsed.ok() ? std::move(parsed).value() : json();
    if (!parsed.ok() || !j.is_object()) {
      ++bad;
      write(result_line(id, nullptr, nullptr, {{"code", "invalid_json"}, {"message", "line " + std::to_string(line_no) + ": not a JSON object"}}));
      continue;
    }
    const json custom_id = j.contains("custom_id") ? j["custom_id"] : json();
    auto fail = [&](const std::string& message) {
      ++bad;
      write(result_line(id, custom_id, {{"status_code", 400}, {"body", api::error_body(message, "invalid_request_error", 400)}},
                        nullptr));
    };
    if (!custom_id.is_string() || custom_id.get<std::string>().empty()) {
      fail("line " + std::to_string(line_no) + ": custom_id must be a non-empty string");
      continue;
    }
    const std::string cid = custom_id.get<std::string>();
    if (done.count(cid)) {
      ++skipped;
      continue;
    }
    if (!seen.insert(cid).second) {
      fail("line " + std::to_string(line_no) + ": custom_id '" + cid + "' appears twice");
      continue;
    }
    if (j.value("method", std::string("POST")) != "POST" || j.value("url", std::string("/v1/chat/completions")) != "/v1/chat/completions") {
      fail("line " + std::to_string(line_no) + ": only POST /v1/chat/completions is supported");
      continue;
    }
    json body = j.contains("body") ? j["body"] : json();
    const auto& response_format = output_format.response_format();
    if (response_format && body.is_object() && !body.contains("response_format")) body["response_format"] = *response_format;
    auto completion = api::parse_chat_completion(body, e);
    if (!completion.ok()) {
      fail("line " + std::to_string(line_no) + ": " + completion.status().message());
      continue;
    }
    Pending p;
    p.line = line_no;
    p.custom_id = cid;
    p.completion = std::move(completion).value();
    p.events = std::make_shared<std::vector<TokenEvent>>();
    if (p.completion.request.logprobs) {
      auto events = p.events;
      p.completion.request.on_token = [events](const TokenEvent& ev) { events->push_back(ev); };
    }
    p.handle = e.submit(p.completion.request);
    pending.push_back(std::move(p));
  }

  ProgressBar bar("batch", pending.size(), "requests", !quiet);
  const Stopwatch watch;
  uint64_t ok = 0, failed = 0, tokens = 0, hit = 0, prompt = 0;
  for (Pending& p : pending) {
    const GenerationResult r = p.handle.wait();
    const std::string id = "batch_req_" + std::to_string(p.line);
    if (r.finish == FinishReason::kError) {
      ++failed;
      write(result_line(id, p.custom_id,
                        {{"status_code", 400}, {"body", api::error_body(r.error.message(), "invalid_request_error", 400)}},
                        nullptr));
    } else {
      ++ok;
      tokens += static_cast<uint64_t>(r.usage.completion_tokens);
      hit += static_cast<uint64_t>(r.usage.prompt_cache_hit_tokens);
      prompt += static_cast<uint64_t>(r.usage.prompt_tokens);
      json response = {{"status_code", 200}, {"request_id", id},
                       {"body", api::chat_completion_body(p.completion, r, "chatcmpl-" + id, created, *p.events, e.tokenizer())}};
      write(result_line(id, p.custom_id, response, nullptr));
    }
    bar.advance(1);
  }
  out.close();
  if (!out) return report_error(io_error("writing " + partial + " failed (disk full?)"));
  std::filesystem::rename(partial, output, ec);
  if (ec) return report_error(io_error("renaming " + partial + " to " + output + ": " + ec.message()));
  const double s = watch.elapsed_seconds();
  char summary[512];
  std::snprintf(summary, sizeof(summary),
                "%llu requests: %llu ok, %llu failed, %llu bad lines, %llu already done; %llu tokens in %.1f s "
                "(%.1f tok/s); prompt cache hit %llu of %llu tokens",
                static_cast<unsigned long long>(pending.size() + bad + skipped), static_cast<unsigned long long>(ok),
                static_cast<unsigned long long>(failed), static_cast<unsigned long long>(bad),
                static_cast<unsigned long long>(skipped), static_cast<unsigned long long>(tokens), s,
                s > 0 ? static_cast<double>(tokens) / s : 0.0, static_cast<unsigned long long>(hit),
                static_cast<unsigned long long>(prompt));
  bar.finish(summary);
  const std::string report = e.cache_report();
  if (!report.empty() && !quiet) std::fprintf(stderr, "%s", report.c_str());
  return 0;
}

MOESTREAM_REGISTER_COMMAND("batch", "run an OpenAI Batch file of chat completions through the engine", run_batch);

}  // namespace
}  // namespace moestream::cli
