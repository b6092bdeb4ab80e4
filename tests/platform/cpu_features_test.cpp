#include "platform/cpu_features.h"

#include <doctest/doctest.h>

using namespace moestream;

TEST_CASE("CPU features are consistent") {
  CpuFeatures f = detect_cpu_features();
  MESSAGE("cpu: " << f.brand << " | " << f.summary());
  // AVX-512 sub-features imply the foundation; kernel levels nest.
  if (f.avx512bw || f.avx512vl || f.avx512dq) CHECK(f.avx512f);
  if (f.has_avx512_kernels()) CHECK(f.has_avx2_kernels());
  CHECK_FALSE(f.summary().empty());
  // Unknown is 0; a reported cache is at least an L2's worth.
  CHECK(f.last_level_cache_bytes >= 0);
  if (f.last_level_cache_bytes > 0) CHECK(f.last_level_cache_bytes >= 64 * 1024);
  // cpu_features() can only remove features, never add them.
  const CpuFeatures& used = cpu_features();
  if (used.avx512f) CHECK(f.avx512f);
  if (used.avx2) CHECK(f.avx2);
}
