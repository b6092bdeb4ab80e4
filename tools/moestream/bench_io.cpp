#include "bench_io.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace moestream::cli {

std::string drop_page_cache() {
  ::sync();
  std::ofstream f("/proc/sys/vm/drop_caches");
  if (f && (f << "3\n") && f.flush()) return "page cache dropped";
  return "page cache not dropped (not permitted here; O_DIRECT bypasses it anyway)";
}

Result<double> run_fio(const std::string& path, uint64_t offset, uint64_t size, uint64_t request, unsigned depth,
                       double seconds, uint64_t run_length, std::string* command_out) {
  std::ostringstream cmd;
  cmd << "fio --name=moestream --filename='" << path << "' --readonly --rw=randread";
  if (run_length > 1) cmd << ":" << run_length << " --rw_sequencer=sequential";
  cmd << " --bs=" << request
      << " --iodepth=" << depth << " --ioengine=io_uring --fixedbufs --registerfiles --direct=1 --offset=" << offset
      << " --size=" << (size / request * request) << " --runtime=" << seconds
      << " --time_based --norandommap --randrepeat=0 --output-format=json";
  *command_out = cmd.str();
  FILE* pipe = ::popen((cmd.str() + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return unsupported("cannot run fio (install the Debian package fio)");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int rc = ::pclose(pipe);
  if (rc != 0 || out.empty()) return unsupported("fio failed or is not installed (exit " + std::to_string(rc) + ")");
  const size_t brace = out.find('{');
  if (brace == std::string::npos) return unsupported("cannot parse fio's JSON output");
  auto json = nlohmann::json::parse(out.substr(brace), nullptr, false);
  if (json.is_discarded() || !json.contains("jobs")) return unsupported("cannot parse fio's JSON output");
  return json["jobs"][0]["read"]["bw_bytes"].get<double>();
}

}  // namespace moestream::cli
