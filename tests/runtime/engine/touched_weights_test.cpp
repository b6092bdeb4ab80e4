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
  CHECK(w.bytes(10, false) == w.every_step + 10 * w.embedding_row);
  CHECK(w.bytes(10, true) == w.every_step + 10 * w.embedding_row + w.mtp);
  CHECK(w.bytes(int64_t{1} << 40, false) == w.every_step + w.embedding);  // at most the table
  release_untouched_tensors(**reader, false);  // pages only: the data stays readable
  CHECK((*reader)->verify_tensor_checksums().ok());
}
