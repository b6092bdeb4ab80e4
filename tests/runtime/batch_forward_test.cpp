// Continuous batching at the model level: rows of several sequences in one step give each
// sequence the logits it gets alone, and each routed expert is acquired once per layer per
// step however many sequences picked it.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <set>

#include "runtime/container_weights.h"
#include "runtime/model.h"
#include "support/golden_data.h"
#include "../support/golden_fixture.h"
#include "../support/temp_dir.h"

using namespace moestream;
using namespace moestream::testing;

namespace {

// Counts acquisitions per layer (and checks the model never asks for one expert twice).
class CountingProvider : public ExpertProvider {
 public:
  explicit CountingProvider(ExpertProvider& inner) : inner_(inner) {}
  Result<AcquiredExpert> acquire(int64_t layer, int64_t expert) override {
    ++per_layer[layer];
    return inner_.acquire(layer, expert);
  }
  void release(const AcquiredExpert& e) override { inner_.release(e); }
  std::map<int64_t, int64_t> per_layer;

 private:
  ExpertProvider& inner_;
};

// Logits of `tokens` run alone: prefill of the first `prompt`, then one token per step;
// row i = logits after tokens[0..prompt-1+i].
std::vector<std::vector<float>> alone(Model& model, const std::vector<int32_t>& tokens, size_t prompt) {
  KvCache cache = model.new_kv_cache();
  std::vector<std::vector<float>> rows;
  std::vector<float> logits;
  const int64_t vocab = model.config().vocab_size;
  REQUIRE(model.forward(std::span<const int32_t>(tokens.data(), prompt), cache, {&logits, nullptr}).ok());
  rows.emplace_back(logits.end() - vocab, logits.end());
  for (size_t i = prompt; i < tokens.size(); ++i) {
    REQUIRE(model.forward(std::span<const int32_t>(&tokens[i], 1), cache, {&logits, nullptr}).ok());
    rows.push_back(logits);
  }
  return rows;
}

double max_abs_diff(const float* a, const std::vector<float>& b) {
  double worst = 0;
  for (size_t i = 0; i < b.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
  return worst;
}

}  // namespace

TEST_CASE("a batched step gives every sequence its own logits, with sequences joining and leaving") {
  TempDir dir;
  for (const std::string variant : {"fp8-v3", "bf16"}) {
    CAPTURE(variant);
    auto reader = ContainerReader::open(convert_golden(dir, variant));
    REQUIRE(reader.ok());
    ContainerWeightSource weights(**reader);
    ResidentExpertProvider experts(**reader);
    auto loaded = Model::load(weights, experts);
    REQUIRE(loaded.ok());
    Model& model = **loaded;
    const int64_t vocab = model.config().vocab_size;
    // Three sequences of different lengths: A (prompt 7) starts alone, B (prompt 3) joins at
    // step 2, C (prompt 11) at step 3; A leaves after step 3, B after step 5.
    const std::vector<int32_t> a = {1, 17, 300, 4, 55, 600, 7, 80, 9, 1000};
    const std::vector<int32_t> b = {1, 2047, 33, 44, 5, 66, 7};
    const std::vector<int32_t> c = {1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 12, 13, 14, 15};
    const auto ref_a = alone(model, a, 7), ref_b = alone(model, b, 3), ref_c = alone(model, c, 11);

    struct Seq { const std::vector<int32_t>* tokens; size_t prompt; size_t fed = 0; size_t next_row = 0;
                 const std::vector<std::vector<float>>* ref; KvCache cache; };
    std::vector<Seq> seqs;
    seqs.push_back({&a, 7, 0, 0, &ref_a, model.new_kv_cache()});
    seqs.push_back({&b, 3, 0, 0, &ref_b, model.new_kv_cache()});
    seqs.push_back({&c, 11, 0, 0, &ref_c, model.new_kv_cache()});
    const std::vector<std::vector<int>> schedule = {{0}, {0, 1}, {0, 1, 2}, {1, 2}, {2, 1}, {2}, {2}};
    std::vector<float> logits;
    double worst = 0;
    for (const auto& members : schedule) {
      std::vector<SequenceStep> steps;
      for (int m : members) {
        Seq& s = seqs[static_cast<size_t>(m)];
        const size_t n = s.fed == 0 ? s.prompt : 1;
        steps.push_back({std::span<const int32_t>(s.tokens->data() + s.fed, n), &s.cache, SequenceStep::Rows::kLast});
      }
      REQUIRE(model.forward_batch(steps, {&logits, nullptr}).ok());
      REQUIRE(logits.size() == members.size() * static_cast<size_t>(vocab));
      for (size_t i = 0; i < members.size(); ++i) {
        Seq& s = seqs[static_cast<size_t>(members[i])];
        s.fed += steps[i].tokens.size();
        worst = std::max(worst, max_abs_diff(logits.data() + i * vocab, (*s.ref)[s.next_row++]));
      }
    }
    CHECK(seqs[0].next_row == 3);
    CHECK(seqs[1].next_row == 4);
    CHECK(seqs[2].next_row == 5);
    CHECK(worst <= 1e-5);
    MESSAGE(variant << ": largest difference to the sequences run alone " << worst);
  }
}

TEST_CASE("N sequences routing to the same experts acquire each expert once per layer per step") {
  TempDir dir;
  auto reader = ContainerReader::open(convert_golden(dir, "fp8-v3"));
  REQUIRE(reader.ok());
  ContainerWeightSource weights(**reader);
  ResidentExpertProvider resident(**reader);
  CountingProvider counting(resident);
  auto loaded = Model::load(weights, counting);
  REQUIRE(loaded.ok());
  Model& model = **loaded;
  const std::vector<int32_t> prompt = {1, 17, 300, 4, 55};
  // One sequence alone: the distinct experts per layer of its prefill step.
  KvCache one = model.new_kv_cache();
  std::vector<float> logits;
  REQUIRE(model.forward(prompt, one, {&logits, nullptr}).ok());
  const auto single = counting.per_layer;
  REQUIRE(!single.empty());
  for (int n : {2, 4, 8}) {
    CAPTURE(n);
    counting.per_layer.clear();
    std::vector<KvCache> caches;
    for (int i = 0; i < n; ++i) caches.push_back(model.new_kv_cache());
    std::vector<SequenceStep> steps;
    for (auto& cache : caches) steps.push_back({prompt, &cache, SequenceStep::Rows::kLast});
    REQUIRE(model.forward_batch(steps, {&logits, nullptr}).ok());
    CHECK(counting.per_layer == single);  // not n times as many
  }
}

TEST_CASE("forward_batch refuses two sequences sharing one KV cache and empty steps") {
  TempDir dir;
  auto reader = ContainerReader::open(convert_golden(dir, "bf16"));
  REQUIRE(reader.ok());
  ContainerWeightSource weights(**reader);
  ResidentExpertProvider experts(**reader);
  auto model = Model::load(weights, experts);
  REQUIRE(model.ok());
  KvCache cache = (*model)->new_kv_cache();
  const std::vector<int32_t> t = {1, 2};
  std::vector<SequenceStep> steps = {{t, &cache}, {t, &cache}};
  std::vector<float> logits;
  CHECK((*model)->forward_batch(steps, {&logits, nullptr}).message().find("share") != std::string::npos);
  CHECK_FALSE((*model)->forward_batch({}, {&logits, nullptr}).ok());
  CHECK(cache.size() == 0);
}
