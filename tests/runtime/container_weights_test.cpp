#include "runtime/container_weights.h"

#include <doctest/doctest.h>

#include "interop/hf_converter.h"
#include "runtime/model.h"
#include "support/golden_data.h"
#include "../support/temp_dir.h"

using namespace moestream;
using namespace moestream::testing;

TEST_CASE("the resident provider serves compressed and uncompressed expert blobs alike") {
  TempDir dir;
  std::vector<float> logits[2];
  int i = 0;
  for (BlobCompression compression : {BlobCompression::kNone, BlobCompression::kZstd}) {
    ConvertOptions options;
    options.progress = false;
    options.writer.compression = compression;
    const std::string path = dir.file(compression == BlobCompression::kNone ? "plain.mst" : "zstd.mst");
    REQUIRE(convert_hf_checkpoint(golden_dir() + "/fp8-v31-ue8m0", path, options).ok());
    auto reader = ContainerReader::open(path);
    REQUIRE(reader.ok());
    ContainerWeightSource weights(**reader);
    ResidentExpertProvider experts(**reader);
    auto model = Model::load(weights, experts);
    REQUIRE_MESSAGE(model.ok(), model.status().to_string());
    KvCache cache = (*model)->new_kv_cache();
    const auto prompts = golden_prompts();
    REQUIRE((*model)->forward(prompts[1], cache, {&logits[i], nullptr}).ok());
    CHECK(experts.outstanding() == 0);
    // 2 MoE layers x 7 tokens x 8 experts, each distinct expert acquired once per layer.
    CHECK(experts.acquisitions() > 0);
    CHECK(experts.acquisitions() <= 2 * 7 * 8);
    auto missing = experts.acquire(1, 999);
    CHECK_FALSE(missing.ok());
    ++i;
  }
  CHECK(logits[0] == logits[1]);
  const NpyArray ref = read_npy_f32(golden_dir() + "/ref/fp8-v31-ue8m0/logits_p1.npy");
  CHECK(max_abs_diff(logits[1], ref.values) <= 1e-4);
}
