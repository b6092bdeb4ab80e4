// CPU feature detection (cpuid + the OS's saved-state mask), for runtime kernel dispatch.
#pragma once

#include <cstdint>
#include <string>

namespace moestream {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512bf16 = false;
  bool avx512vnni = false;
  bool amx_tile = false;
  bool amx_bf16 = false;
  bool amx_int8 = false;
  std::string brand;
  // Size of the largest data cache (L3, else L2) as the OS reports it; 0 if unknown.
  // Benchmarks size their buffers from it so they measure DRAM, not cache.
  int64_t last_level_cache_bytes = 0;

  bool has_avx2_kernels() const { return avx2 && fma && f16c; }
  bool has_avx512_kernels() const { return has_avx2_kernels() && avx512f && avx512bw && avx512vl && avx512dq; }
  std::string summary() const;  // "avx2 fma f16c avx512f ..."
};

// What the hardware and OS support.
CpuFeatures detect_cpu_features();

// What kernels may use: detect_cpu_features() limited by MOESTREAM_CPU=scalar|avx2|avx512
// (lets tests and benchmarks force a lower ISA). Computed once.
const CpuFeatures& cpu_features();

}  // namespace moestream
