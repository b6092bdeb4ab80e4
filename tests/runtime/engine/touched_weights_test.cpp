// The budget plan counts what a run touches: the main layers and the head every step, the
// embedding table a row per token, the MTP layer only when it runs.
#include "runtime/engine/touched_weights.h"

#include <doctest/doctest.h>

#include "support/mini_model.h"
#include "support/temp_dir.h"

using namespace moestream;
using namespace moestream::testing;

TEST_CASE("touched weights: every tensor in one class, the embedding by rows, MTP only on request") {
  ModelConfig c;
  c.num_hidden_layers = 61;
  CHECK(tensor_use("model.layers.61.eh_proj.weight", c) == TensorUse::kMtp);
  CHECK(tensor_use("model.layers.61.embed_tokens.weight", c) == TensorUse::kMtp);
  CHECK(tensor_use("model.layers.60.self_attn.q_a_proj.weight", c) == TensorUse::kEveryStep);
  CHECK(tensor_use("model.layers.6.mlp.gate.weight", c) == TensorUse::kEveryStep);
  CHECK(tensor_use("model.embed_tokens.weight", c) == TensorUse::kEmbeddingRows);
  CHECK(tensor_use("lm_head.weight", c) == TensorUse::kEveryStep);
  CHECK(tensor_use("model.layers.x.weight", c) == TensorUse::kEveryStep);
  c.tie_word_embeddings = true;  // the head reads the whole table every step
  CHECK(tensor_use("model.embed_tokens.weight", c) == TensorUse::kEveryStep);

  TempDir dir;
  auto reader = ContainerReader::open(synth_mini_model(dir));
  REQUIRE(reader.ok());
  const TouchedWeights w = touched_weights(**reader);
  CHECK(w.every_step + w.embedding + w.mtp == (*reader)->tensor_bytes());
  CHECK(w.mtp > 0);
  CHECK(w.embedding == static_cast<uint64_t>((*reader)->config().vocab_size) * w.embedding_row);
  // A row at a time: its 64 KiB window and one it may straddle into.
  CHECK(w.bytes(false) == w.every_step + 128 * 1024);
  CHECK(w.bytes(true) == w.every_step + 128 * 1024 + w.mtp);
  CHECK(keep_mapped_after_check("lm_head.weight", (*reader)->config(), false));
  CHECK(!keep_mapped_after_check("model.embed_tokens.weight", (*reader)->config(), false));
  CHECK(!keep_mapped_after_check("model.layers.2.eh_proj.weight", (*reader)->config(), false));
  CHECK(keep_mapped_after_check("model.layers.2.eh_proj.weight", (*reader)->config(), true));
  // Released pages only: the data stays readable and a second check passes.
  CHECK((*reader)->verify_tensor_checksums([](std::string_view) { return true; }).ok());
  CHECK((*reader)->verify_tensor_checksums().ok());
}

TEST_CASE("touched weights of a config alone equal those of its container, routed expert bytes too") {
  TempDir dir;
  auto reader = ContainerReader::open(synth_mini_model(dir));
  REQUIRE(reader.ok());
  const ModelConfig& c = (*reader)->config();
  const TouchedWeights from_file = touched_weights(**reader);
  const TouchedWeights from_shape = touched_weights(c);
  CHECK(from_shape.every_step == from_file.every_step);
  CHECK(from_shape.embedding == from_file.embedding);
  CHECK(from_shape.embedding_row == from_file.embedding_row);
  CHECK(from_shape.mtp == from_file.mtp);
  const int64_t layer = (*reader)->expert_layers().front();
  // The blob holds the three tensors and their scales, each part aligned to 4 KiB.
  const uint64_t blob = (*reader)->expert_blob(layer, 0).value().raw_size;
  CHECK(routed_expert_bytes(c) <= blob);
  CHECK(routed_expert_bytes(c) + 6 * 4096 > blob);
}
