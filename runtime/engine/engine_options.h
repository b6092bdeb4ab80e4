// Everything the engine is opened with; the CLI's flags map onto these one to one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string>
#include <string_view>

#include "format/container_reader.h"
#include "runtime/engine/prefix_cache.h"
#include "runtime/expert_provider.h"
#include "runtime/engine/streaming_session.h"
#include "runtime/kv_cache.h"

namespace moestream {

struct EngineOptions {
  // Set: routed experts stream from the file through an expert cache sized so the whole
  // process stays under streaming->ram_budget (KV of every sequence included). Unset: all
  // experts are used in place from the memory-mapped container.
  std::optional<StreamingOptions> streaming;
  int64_t threads = 0;  // kernel threads; 0 = hardware concurrency
  KvCachePrecision kv_precision = KvCachePrecision::kF32;
  int64_t max_context = 4096;  // tokens per sequence, prompt + output (capped by the model's)
  int64_t max_sequences = 16;  // sequences in one step at most
  int64_t prefill_chunk = 256; // prompt tokens per sequence per step
  // Rows of a step whose logits the budget plan makes room for (0: max_sequences); a tool
  // that wants the logits of every prompt position (run_exclusive) sets the prompt length.
  int64_t plan_logit_rows = 0;
  // The MTP layer runs (drafts, `logits --mtp-out`): the plan counts its tensors and their
  // pages stay mapped after the load-time checks. Off: neither.
  bool plan_mtp = false;
  // MTP speculative decoding: each decode step also verifies the MTP layer's draft of the
  // token after next as a second row; when the draft is kept (greedy: it equals the model's
  // token; sampling: the speculative-sampling rule) the step yields two tokens. Greedy output
  // is identical to decoding without it, sampled output has the same distribution. Needs a
  // container with an MTP layer (counted resident, as plan_mtp).
  bool speculative_mtp = false;
  // Tests and benchmarks only: called with a sequence's tokens so far (the newest is the next
  // input) and the MTP layer's draft of the token after it; returns the draft to verify (a
  // benchmark forces right guesses to measure the step at acceptance 1.0). Empty: the MTP's.
  std::function<int32_t(std::span<const int32_t> history, int32_t mtp_draft)> draft_override;
  PrefixCacheOptions prefix_cache;
  // How much of the file is checked against its checksums before it can change an answer:
  // "fast" = every resident tensor at open and each expert when first used (resident) or as
  // it is read (streaming); "full" = every byte at open; "off".
  std::string verify_on_load = "fast";
  // Load the container's tokenizer (text pieces in TokenEvent, stop strings). Off saves its
  // memory (tens of MB for DeepSeek's) for callers that only want token ids.
  bool load_tokenizer = true;
  // A tool's provider between the model and the expert tier (`moestream profile` records
  // through one): called once at open with the tier's provider; what it returns must
  // outlive the engine. Empty: none.
  std::function<Result<ExpertProvider*>(const ContainerReader& reader, ExpertProvider& tier)> wrap_experts;
  // Lines for the user (the budget plan, warnings). Empty: nothing is printed.
  std::function<void(std::string_view)> log;
};

}  // namespace moestream
