#include "platform/cpu_features.h"

#include <cpuid.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <unistd.h>

namespace moestream {

namespace {

uint64_t read_xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

}  // namespace

std::string CpuFeatures::summary() const {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(avx2, "avx2");
  add(fma, "fma");
  add(f16c, "f16c");
  add(avx512f, "avx512f");
  add(avx512bw, "avx512bw");
  add(avx512vl, "avx512vl");
  add(avx512dq, "avx512dq");
  add(avx512bf16, "avx512bf16");
  add(avx512vnni, "avx512vnni");
  add(amx_tile, "amx-tile");
  add(amx_bf16, "amx-bf16");
  add(amx_int8, "amx-int8");
  return s.empty() ? "scalar" : s;
}

CpuFeatures detect_cpu_features() {
  CpuFeatures f;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) == 0) return f;
  unsigned max_leaf = eax;
  __get_cpuid(1, &eax, &ebx, &ecx, &edx);
  bool osxsave = (ecx >> 27) & 1;
  bool fma = (ecx >> 12) & 1;
  bool f16c = (ecx >> 29) & 1;
  uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  bool os_avx = (xcr0 & 0x6) == 0x6;             // XMM + YMM state
  bool os_avx512 = (xcr0 & 0xe6) == 0xe6;        // + opmask, ZMM_Hi256, Hi16_ZMM
  bool os_amx = (xcr0 & 0x60000) == 0x60000;     // XTILECFG + XTILEDATA
  f.fma = fma && os_avx;
  f.f16c = f16c && os_avx;
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    f.avx2 = os_avx && ((ebx >> 5) & 1);
    f.avx512f = os_avx512 && ((ebx >> 16) & 1);
    f.avx512dq = os_avx512 && ((ebx >> 17) & 1);
    f.avx512bw = os_avx512 && ((ebx >> 30) & 1);
    f.avx512vl = os_avx512 && ((ebx >> 31) & 1);
    f.avx512vnni = os_avx512 && ((ecx >> 11) & 1);
    f.amx_bf16 = os_amx && ((edx >> 22) & 1);
    f.amx_tile = os_amx && ((edx >> 24) & 1);
    f.amx_int8 = os_amx && ((edx >> 25) & 1);
    unsigned sub_leaves = eax;
    if (sub_leaves >= 1) {
      __cpuid_count(7, 1, eax, ebx, ecx, edx);
      f.avx512bf16 = os_avx512 && ((eax >> 5) & 1);
    }
  }
  unsigned ext = __get_cpuid_max(0x80000000, nullptr);
  if (ext >= 0x80000004) {
    char brand[49] = {};
    for (unsigned i = 0; i < 3; ++i) {
      __get_cpuid(0x80000002 + i, &eax, &ebx, &ecx, &edx);
      std::memcpy(brand + i * 16, &eax, 4);
      std::memcpy(brand + i * 16 + 4, &ebx, 4);
      std::memcpy(brand + i * 16 + 8, &ecx, 4);
      std::memcpy(brand + i * 16 + 12, &edx, 4);
    }
    f.brand = brand;
    while (!f.brand.empty() && f.brand.back() == ' ') f.brand.pop_back();
  }
  for (int name : {_SC_LEVEL3_CACHE_SIZE, _SC_LEVEL2_CACHE_SIZE}) {
    const long bytes = sysconf(name);
    if (bytes > 0) {
      f.last_level_cache_bytes = bytes;
      break;
    }
  }
  return f;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f = detect_cpu_features();
    const char* limit = std::getenv("MOESTREAM_CPU");
    if (limit == nullptr) return f;
    bool scalar = std::strcmp(limit, "scalar") == 0;
    bool avx2 = std::strcmp(limit, "avx2") == 0;
    if (scalar || avx2) {
      f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = false;
      f.avx512bf16 = f.avx512vnni = false;
      f.amx_tile = f.amx_bf16 = f.amx_int8 = false;
    }
    if (scalar) f.avx2 = f.fma = f.f16c = false;
    return f;
  }();
  return features;
}

}  // namespace moestream
