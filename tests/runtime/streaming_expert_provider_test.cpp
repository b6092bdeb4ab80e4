// Streaming mode must not change a single bit: logits (prefill and decode, with pre-gating,
// both read paths, both policies) under a cache that holds a quarter of the experts equal
// the all-resident run, on the golden tiny model and on synthetic ones (raw and zstd blobs).
#include "runtime/streaming_expert_provider.h"

#include <chrono>
#include <thread>

#include <doctest/doctest.h>

#include "interop/hf_converter.h"
#include "format/synthetic_model.h"
#include "offload/fault_injecting_read_backend.h"
#include "runtime/container_weights.h"
#include "runtime/model.h"
#include "support/golden_data.h"
#include "../support/temp_dir.h"

using namespace moestream;
using namespace moestream::testing;

namespace {

struct RunConfig {
  bool streaming = false;
  int64_t slots = 0;  // 0: a quarter of the experts
  int64_t prefetch_margin = -1;
  bool force_pread = false;
  std::string policy = "lru";
};

struct RunResult {
  std::vector<float> prefill, decode, mtp;
  std::vector<LayerCacheStats> stats;
  PrefetchRecall recall;
};

int64_t quarter_of_experts(const ContainerReader& reader) {
  return static_cast<int64_t>(reader.expert_layers().size()) * reader.config().n_routed_experts / 4;
}

RunResult run_model(const std::string& path, const std::vector<int32_t>& tokens, const RunConfig& rc) {
  auto reader = ContainerReader::open(path);
  REQUIRE(reader.ok());
  ContainerWeightSource weights(**reader);
  ResidentExpertProvider resident(**reader);
  std::unique_ptr<ExpertCache> cache;
  std::unique_ptr<StreamingExpertProvider> streaming;
  ExpertProvider* experts = &resident;
  if (rc.streaming) {
    ExpertCacheOptions options;
    options.slots = rc.slots ? rc.slots : quarter_of_experts(**reader);
    options.policy.kind = rc.policy;
    options.loader.force_pread = rc.force_pread;
    options.loader.request_size = 16384;
    options.huge_pages = false;
    auto created = ExpertCache::create(**reader, options);
    REQUIRE_MESSAGE(created.ok(), created.status().to_string());
    cache = std::move(created).value();
    streaming = std::make_unique<StreamingExpertProvider>(**reader, *cache);
    experts = streaming.get();
  }
  auto model = Model::load(weights, *experts);
  REQUIRE_MESSAGE(model.ok(), model.status().to_string());
  (*model)->set_prefetch_margin(rc.prefetch_margin);
  RunResult out;
  KvCache cache_kv = (*model)->new_kv_cache();
  std::vector<float> hidden;
  Status s = (*model)->forward(tokens, cache_kv, {&out.prefill, &hidden});
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  if ((*model)->mtp()) {
    KvCache mtp_kv = (*model)->mtp()->new_kv_cache();
    std::vector<int32_t> next(tokens.begin() + 1, tokens.end());
    next.push_back(1);
    REQUIRE((*model)->mtp_forward(next, hidden.data(), mtp_kv, &out.mtp).ok());
  }
  KvCache decode_kv = (*model)->new_kv_cache();
  std::vector<float> step;
  for (int32_t t : tokens) {
    REQUIRE((*model)->forward(std::span<const int32_t>(&t, 1), decode_kv, {&step, nullptr}).ok());
    out.decode.insert(out.decode.end(), step.begin(), step.end());
  }
  if (streaming) {
    CHECK(streaming->outstanding() == 0);
    out.stats = cache->stats();
    out.recall = streaming->recall();
  }
  return out;
}

void check_identical(const std::string& path, const std::vector<int32_t>& tokens) {
  const RunResult resident = run_model(path, tokens, {});
  for (RunConfig rc : {RunConfig{true, 0, -1, false, "lru"}, RunConfig{true, 0, 2, false, "lru"},
                       RunConfig{true, 0, 2, true, "lru"}, RunConfig{true, 0, 4, false, "lfu"},
                       RunConfig{true, 10, 2, false, "lru"}}) {
    CAPTURE(rc.slots);
    CAPTURE(rc.prefetch_margin);
    CAPTURE(rc.force_pread);
    CAPTURE(rc.policy);
    const RunResult streamed = run_model(path, tokens, rc);
    CHECK(streamed.prefill == resident.prefill);
    CHECK(streamed.decode == resident.decode);
    CHECK(streamed.mtp == resident.mtp);
    const LayerCacheStats total = total_of(streamed.stats);
    CHECK(total.misses > 0);
    CHECK(total.load_failures == 0);
    if (rc.prefetch_margin >= 0) CHECK(streamed.recall.needed > 0);
  }
}

}  // namespace

TEST_CASE("golden tinyA: streamed logits under a quarter-of-experts cache are bit-identical to resident") {
  TempDir dir;
  ConvertOptions options;
  options.progress = false;
  const std::string path = dir.file("tinyA.mst");
  REQUIRE(convert_hf_checkpoint(golden_dir() + "/fp8-v3", path, options).ok());
  check_identical(path, golden_prompts()[1]);
}

TEST_CASE("synthetic models (raw and zstd blobs): streamed logits are bit-identical to resident") {
  TempDir dir;
  for (bool zstd : {false, true}) {
    SynthOptions options;
    options.preset = "tiny";
    options.experts = 64;
    options.layers = 4;
    options.seed = 7;
    options.progress = false;
    if (zstd) options.writer.compression = BlobCompression::kZstd;
    const std::string path = dir.file(zstd ? "zstd.mst" : "raw.mst");
    auto summary = synthesize_container(options, path);
    REQUIRE_MESSAGE(summary.ok(), summary.status().to_string());
    CAPTURE(zstd);
    check_identical(path, {0, 17, 300, 5, 1999, 42, 8, 1024, 77, 3});
  }
}

TEST_CASE("a read that keeps failing stops the forward pass with an error naming layer and expert") {
  TempDir dir;
  ConvertOptions convert;
  convert.progress = false;
  const std::string path = dir.file("tinyA.mst");
  REQUIRE(convert_hf_checkpoint(golden_dir() + "/fp8-v3", path, convert).ok());
  auto reader = ContainerReader::open(path);
  REQUIRE(reader.ok());
  // Every blob of layer 2 fails with EIO, every time.
  uint64_t begin = ~0ull, end = 0;
  for (int64_t e = 0; e < (*reader)->config().n_routed_experts; ++e) {
    const ExpertBlobInfo b = (*reader)->expert_blob(2, e).value();
    begin = std::min(begin, b.offset);
    end = std::max(end, b.offset + b.padded_size);
  }
  std::string reason;
  auto inner = open_read_backend(path, {}, &reason);
  REQUIRE(inner.ok());
  ExpertCacheOptions options;
  options.slots = quarter_of_experts(**reader);
  options.huge_pages = false;
  auto cache = ExpertCache::create(
      **reader, options,
      std::make_unique<FaultInjectingReadBackend>(std::move(inner).value(),
                                                  std::vector<ReadFault>{{ReadFault::Kind::kEio, begin, end, -1}}));
  REQUIRE(cache.ok());
  StreamingExpertProvider provider(**reader, **cache);
  ContainerWeightSource weights(**reader);
  auto model = Model::load(weights, provider);
  REQUIRE(model.ok());
  (*model)->set_prefetch_margin(2);
  KvCache kv = (*model)->new_kv_cache();
  std::vector<float> logits;
  Status s = (*model)->forward(golden_prompts()[1], kv, {&logits, nullptr});
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == ErrorCode::kIoError);
  CHECK(s.message().find("layer 2 expert") != std::string::npos);
  CHECK(s.message().find("attempts") != std::string::npos);
  CHECK(provider.outstanding() == 0);
  // Nothing stays pinned: the layers that do work still work.
  CHECK((*cache)->stats()[2].load_failures > 0);
}

TEST_CASE("prefetch is gated on its measured precision: wrong guesses stop the reads, right ones reopen them") {
  TempDir dir;
  SynthOptions synth;
  synth.preset = "tiny";
  synth.experts = 64;
  synth.layers = 4;
  synth.seed = 3;
  synth.progress = false;
  const std::string path = dir.file("gate.mst");
  REQUIRE(synthesize_container(synth, path).ok());
  auto reader = ContainerReader::open(path);
  REQUIRE(reader.ok());
  ExpertCacheOptions options;
  options.slots = 16;
  options.huge_pages = false;
  auto cache = ExpertCache::create(**reader, options);
  REQUIRE(cache.ok());
  StreamingExpertProvider provider(**reader, **cache);
  CHECK(provider.prefetch_min_precision() == kPrefetchMinPrecision);
  provider.set_prefetch_min_precision(0.8);  // the steps below are counted for this threshold
  const int64_t layer = (*reader)->expert_layers().front();

  // Guesses that passed the gate: each is read, or dropped unread when the layer's routing
  // came first (the cache cancels what has not started).
  auto prefetches = [&] {
    const LayerCacheStats st = (*cache)->stats()[static_cast<size_t>(layer)];
    return st.prefetches + st.cancelled_prefetches;
  };
  int64_t next_expert = 0;
  // One layer step: name two experts, then run two (the same ones when `right`).
  auto step = [&](bool right) {
    const int64_t used[2] = {next_expert % 64, (next_expert + 1) % 64};
    const int64_t wrong[2] = {(next_expert + 32) % 64, (next_expert + 33) % 64};
    next_expert += 2;
    provider.prefetch(layer, right ? std::span<const int64_t>(used) : std::span<const int64_t>(wrong));
    REQUIRE(provider.begin_batch(layer, used).ok());
    for (int i = 0; i < 2; ++i) {
      auto a = provider.acquire_next_ready();
      REQUIRE_MESSAGE(a.ok(), a.status().to_string());
      provider.release(*a);
    }
    provider.end_batch();
  };

  const uint64_t before = prefetches();
  step(false);
  CHECK(prefetches() > before);  // trusted at first
  for (int i = 0; i < 5; ++i) step(false);
  const uint64_t gated_at = prefetches();
  const PrefetchRecall wrong = provider.recall();
  CHECK(wrong.gated > 0);
  CHECK(wrong.precision() == 0.0);
  for (int i = 0; i < 10; ++i) step(false);
  CHECK(prefetches() == gated_at);  // below the threshold nothing more is read
  // Right guesses are still scored while gated, so the gate opens again.
  for (int i = 0; i < 30; ++i) step(true);
  CHECK(prefetches() > gated_at);
  const PrefetchRecall after = provider.recall();
  CHECK(after.hints == 46);
  CHECK(after.gated < after.hints);
  CHECK(provider.outstanding() == 0);

  // Of a hint naming more than a quarter of the slots (16 / 4), the first four (the best
  // guesses) are read and the fifth never is.
  const uint64_t before_wide = prefetches();
  const int64_t wide[5] = {50, 51, 52, 53, 54};
  provider.prefetch(layer, wide);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto first_four_in = [&] {
    for (int64_t e : {50, 51, 52, 53}) {
      if (!(*cache)->resident(layer, e)) return false;
    }
    return true;
  };
  while (!first_four_in() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(first_four_in());
  CHECK_FALSE((*cache)->resident(layer, 54));
  CHECK(prefetches() == before_wide + 4);
  CHECK(provider.recall().truncated == 1);
  CHECK(provider.recall().gated == after.gated);

  // --prefetch-min-precision 0: wrong guesses are read all the same.
  provider.set_prefetch_min_precision(0.0);
  for (int i = 0; i < 8; ++i) {
    const uint64_t was = prefetches();
    step(false);
    CHECK(prefetches() > was);
  }
}
