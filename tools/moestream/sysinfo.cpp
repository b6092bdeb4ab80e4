// `moestream sysinfo`: what this machine offers the runtime (CPU features, memory, io_uring).
#include <cstdio>

#include "arg_parser.h"
#include "command_registry.h"
#include "platform/cpu_features.h"
#include "platform/io_uring_ring.h"
#include "platform/memory_probe.h"
#include "platform/progress_bar.h"

namespace moestream::cli {
namespace {

int run_sysinfo(int argc, char** argv) {
  ArgParser args("sysinfo", "Print the CPU features, memory limits and I/O support that "
                            "moestream detects on this machine.");
  if (!args.parse(argc, argv)) return args.exit_code();
  const CpuFeatures& cpu = cpu_features();
  std::printf("cpu:            %s\n", cpu.brand.c_str());
  std::printf("cpu features:   %s\n", cpu.summary().c_str());
  std::printf("cache (LLC):    %s\n", cpu.last_level_cache_bytes > 0 ? format_bytes(cpu.last_level_cache_bytes).c_str() : "unknown");
  std::printf("kernels:        %s\n", cpu.has_avx512_kernels() ? "avx512"
                                      : cpu.has_avx2_kernels() ? "avx2" : "scalar");
  std::printf("ram:            %s total, %s available\n", format_bytes(total_ram_bytes()).c_str(),
              format_bytes(available_ram_bytes()).c_str());
  auto limit = cgroup_memory_limit_bytes();
  std::printf("cgroup limit:   %s\n", limit ? format_bytes(*limit).c_str() : "none");
  auto ring = IoUringRing::create({});
  std::printf("io_uring:       %s\n", ring.ok() ? "available" : ring.status().message().c_str());
  return 0;
}

MOESTREAM_REGISTER_COMMAND("sysinfo", "show CPU features, memory limits and io_uring support",
                           run_sysinfo);

}  // namespace
}  // namespace moestream::cli
