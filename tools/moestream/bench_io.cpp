#include "bench_io.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace moestream::cli {

Result<ExpertBlobs> expert_blobs(const ContainerReader& reader) {
  ExpertBlobs out;
  for (int64_t layer : reader.expert_layers()) {
    for (int64_t e = 0; e < reader.config().n_routed_experts; ++e) {
      MOESTREAM_ASSIGN_OR_RETURN(ExpertBlobInfo b, reader.expert_blob(layer, e));
      out.region_begin = std::min(out.region_begin, b.offset);
      out.region_end = std::max(out.region_end, b.offset + b.padded_size);
      out.raw_total += b.raw_size;
      out.stored_total += b.stored_size;
      out.largest_raw = std::max(out.largest_raw, b.raw_size);
      out.largest_padded = std::max(out.largest_padded, b.padded_size);
      out.blobs.push_back(b);
    }
  }
  if (out.blobs.empty()) return invalid_argument(reader.path() + " has no routed experts");
  return out;
}

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
