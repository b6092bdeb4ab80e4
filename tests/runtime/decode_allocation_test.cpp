// A decode step allocates nothing: the forward pass takes its working memory from the
// model's scratch arena (planned at load), the kernels' row splits pass non-owning callback
// references, the router, the pre-gate and the streaming provider keep their buffers. Counted
// with a replaced global operator new in this test binary (every C++ allocation of every
// thread goes through it).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <numeric>

#include "kernels/kernel_threads.h"
#include "offload/support/use_experts.h"
#include "runtime/container_weights.h"
#include "runtime/model.h"
#include "runtime/streaming_expert_provider.h"
#include "support/golden_data.h"
#include "../support/golden_fixture.h"
#include "../support/temp_dir.h"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_allocations{0};

void* counted_alloc(std::size_t size, std::size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = align > alignof(std::max_align_t)
                ? std::aligned_alloc(align, (std::max<std::size_t>(size, 1) + align - 1) / align * align)
                : std::malloc(std::max<std::size_t>(size, 1));
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t size) { return counted_alloc(size, 0); }
void* operator new[](std::size_t size) { return counted_alloc(size, 0); }
void* operator new(std::size_t size, std::align_val_t align) { return counted_alloc(size, static_cast<std::size_t>(align)); }
void* operator new[](std::size_t size, std::align_val_t align) { return counted_alloc(size, static_cast<std::size_t>(align)); }
// The nothrow forms too: every new of the binary must pair with this file's delete (ASan
// reports a mismatch otherwise).
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try { return counted_alloc(size, 0); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try { return counted_alloc(size, 0); } catch (...) { return nullptr; }
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  try { return counted_alloc(size, static_cast<std::size_t>(align)); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  try { return counted_alloc(size, static_cast<std::size_t>(align)); } catch (...) { return nullptr; }
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace moestream;
using namespace moestream::testing;

// The heap allocations of one decode step.
uint64_t allocations_of_step(Model& model, const SequenceStep& step, std::vector<float>* logits) {
  g_allocations = 0;
  g_counting = true;
  Status s = model.forward_batch(std::span<const SequenceStep>(&step, 1), {logits, nullptr});
  g_counting = false;
  REQUIRE(s.ok());
  return g_allocations.load();
}

// Reads every expert of every MoE layer into the cache.
void load_every_expert(ExpertCache& cache, const ContainerReader& reader) {
  std::vector<int64_t> all(static_cast<size_t>(reader.config().n_routed_experts));
  std::iota(all.begin(), all.end(), 0);
  for (int64_t layer : reader.expert_layers()) use_experts(cache, layer, all);
}

uint64_t bytes_read(const ExpertCache& cache) {
  uint64_t total = 0;
  for (const LayerCacheStats& layer : cache.stats()) total += layer.bytes_read;
  return total;
}

TEST_CASE("a decode step does no heap allocation (golden tinyA, resident experts, 1 and 2 threads)") {
  TempDir dir;
  for (const std::string variant : {"fp8-v3", "bf16"}) {
    const std::string path = convert_golden(dir, variant);
    auto reader = ContainerReader::open(path);
    REQUIRE(reader.ok());
    ContainerWeightSource weights(**reader);
    ResidentExpertProvider experts(**reader);
    auto model = Model::load(weights, experts);
    REQUIRE_MESSAGE(model.ok(), model.status().to_string());
    for (int64_t threads : {1, 2}) {
      CAPTURE(variant);
      CAPTURE(threads);
      kernels::set_kernel_threads(threads);
      KvCache cache = (*model)->new_kv_cache();
      cache.reserve(64);  // the KV cache is sized up front, as the engine does
      const std::vector<int32_t> prompt = golden_prompts()[0];
      std::vector<float> logits;
      REQUIRE((*model)->forward(prompt, cache, {&logits, nullptr}).ok());
      int32_t next = 1;
      const SequenceStep step{std::span<const int32_t>(&next, 1), &cache, SequenceStep::Rows::kLast};
      REQUIRE((*model)->forward_batch(std::span<const SequenceStep>(&step, 1), {&logits, nullptr}).ok());  // warm-up
      const uint64_t overflows = (*model)->scratch().overflow_count();
      for (int i = 0; i < 3; ++i) CHECK(allocations_of_step(**model, step, &logits) == 0);
      CHECK((*model)->scratch().overflow_count() == overflows);
      CHECK(logits.size() == static_cast<size_t>((*model)->config().vocab_size));
    }
  }
  kernels::set_kernel_threads(0);
}

TEST_CASE("a streaming decode step whose experts are all cached allocates nothing, with prefetch on and off") {
  // What the pre-gate, the streaming provider and the cache do per step (guesses, their
  // scoring, pins, cancels) reuses kept buffers; only a read (a miss or a guess read) makes
  // the loader's job bookkeeping, which this cache, holding every expert, never needs after
  // the prompt.
  TempDir dir;
  const std::string path = convert_golden(dir, "fp8-v3");
  auto reader = ContainerReader::open(path);
  REQUIRE(reader.ok());
  ContainerWeightSource weights(**reader);
  ExpertCacheOptions options;
  options.slots = static_cast<int64_t>((*reader)->expert_layers().size()) * (*reader)->config().n_routed_experts;
  options.huge_pages = false;
  auto cache = ExpertCache::create(**reader, options);
  REQUIRE(cache.ok());
  load_every_expert(**cache, **reader);
  StreamingExpertProvider experts(**reader, **cache);
  experts.set_prefetch_min_precision(0);  // guesses are read (or found cached) every step
  auto model = Model::load(weights, experts);
  REQUIRE(model.ok());
  for (int64_t margin : {-1, 2}) {
    CAPTURE(margin);
    (*model)->set_prefetch_margin(margin);
    KvCache kv = (*model)->new_kv_cache();
    kv.reserve(64);
    std::vector<float> logits;
    REQUIRE((*model)->forward(golden_prompts()[0], kv, {&logits, nullptr}).ok());
    int32_t next = 1;
    const SequenceStep step{std::span<const int32_t>(&next, 1), &kv, SequenceStep::Rows::kLast};
    for (int i = 0; i < 2; ++i) {  // warm-up: the kept buffers grow to their size
      REQUIRE((*model)->forward_batch(std::span<const SequenceStep>(&step, 1), {&logits, nullptr}).ok());
    }
    const uint64_t hints = experts.recall().hints, read = bytes_read(**cache);
    for (int i = 0; i < 3; ++i) CHECK(allocations_of_step(**model, step, &logits) == 0);
    CHECK((experts.recall().hints > hints) == (margin >= 0));  // the pre-gate ran when on
    CHECK(bytes_read(**cache) == read);  // the premise: nothing was read in the counted steps
  }
}
