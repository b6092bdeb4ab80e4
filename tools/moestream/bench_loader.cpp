// `moestream bench loader MODEL.mst`: the expert loader against fio on the same file.
// With --drop-caches (opt-in: it affects every process on the machine), first syncs and drops
// the whole page cache when permitted; then runs fio (random O_DIRECT reads of the expert region
// with io_uring at the same request size and queue depth), then the loader reading random
// whole expert blobs in requests of that size at that depth, and prints both bandwidths and
// their ratio. --throttle-mbps simulates a slow device in the loader's read path (fio is then
// skipped) to compare raw and zstd containers; --sweep tries several request sizes and depths.

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include "arg_parser.h"
#include "bench_io.h"
#include "bench_loader.h"
#include "cli_common.h"
#include "format/container_reader.h"
#include "offload/expert_loader.h"
#include "platform/clock.h"
#include "platform/progress_bar.h"

namespace moestream::cli {
namespace {

struct LoaderRun {
  double device_bytes_per_s = 0;     // bytes read from the file per second
  double delivered_bytes_per_s = 0;  // raw (decompressed) expert bytes per second
  uint64_t blobs = 0;
  std::string backend;
};

Result<LoaderRun> run_loader(const ContainerReader& reader, const std::vector<ExpertBlobInfo>& blobs,
                             const ExpertLoaderOptions& base, double seconds, uint64_t seed) {
  uint64_t slot = 0, staging = 0;
  for (const ExpertBlobInfo& b : blobs) {
    slot = std::max({slot, b.raw_size, b.padded_size});
    if (b.compression != BlobCompression::kNone) staging = std::max(staging, b.padded_size);
  }
  slot = align_up(slot, kPageSize);
  // Enough blobs in flight to keep `queue_depth` requests busy, plus some being refilled.
  const uint64_t per_blob = std::max<uint64_t>(1, (blobs.front().padded_size + base.request_size - 1) / base.request_size);
  const size_t buffers = static_cast<size_t>(std::max<uint64_t>(4, 2 * ((base.queue_depth + per_blob - 1) / per_blob) + 2));
  std::vector<AlignedBuffer> memory;
  std::vector<iovec> iov;
  for (size_t i = 0; i < buffers; ++i) {
    MOESTREAM_ASSIGN_OR_RETURN(AlignedBuffer b, AlignedBuffer::allocate(slot, kPageSize, true));
    iov.push_back({b.data(), b.size()});
    memory.push_back(std::move(b));
  }
  ExpertLoaderOptions options = base;
  options.staging_buffer_size = staging;
  options.staging_buffers = static_cast<unsigned>(buffers);
  std::mutex m;
  std::condition_variable cv;
  std::vector<uint64_t> done;
  Status failure;
  MOESTREAM_ASSIGN_OR_RETURN(auto loader, ExpertLoader::create(reader.path(), options, iov,
                                                                [&](uint64_t id, const Status& s) {
                                                                  std::lock_guard<std::mutex> lock(m);
                                                                  if (!s.ok()) failure = s;
                                                                  done.push_back(id);
                                                                  cv.notify_one();
                                                                }));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, blobs.size() - 1);
  auto job = [&](uint64_t id) {
    LoadJob j;
    j.id = id;
    j.blob = blobs[pick(rng)];
    j.destination = memory[id].data();
    j.destination_buffer = static_cast<int>(id);
    j.urgent = true;
    return j;
  };
  const LoaderCounters before = loader->counters();
  const Stopwatch watch;
  std::vector<LoadJob> first;
  for (size_t i = 0; i < buffers; ++i) first.push_back(job(i));
  loader->submit(std::move(first));
  while (watch.elapsed_seconds() < seconds) {
    std::vector<uint64_t> ready;
    {
      std::unique_lock<std::mutex> lock(m);
      cv.wait(lock, [&] { return !done.empty(); });
      ready.swap(done);
      if (!failure.ok()) return failure;
    }
    std::vector<LoadJob> next;
    for (uint64_t id : ready) next.push_back(job(id));
    loader->submit(std::move(next));
  }
  loader->drain();
  const double elapsed = watch.elapsed_seconds();
  const LoaderCounters c = loader->counters();
  LoaderRun run;
  run.blobs = c.blobs_loaded - before.blobs_loaded;
  run.device_bytes_per_s = static_cast<double>(c.bytes_read - before.bytes_read) / elapsed;
  run.delivered_bytes_per_s = static_cast<double>(c.bytes_delivered - before.bytes_delivered) / elapsed;
  run.backend = loader->backend_description();
  if (!loader->fallback_reason().empty()) run.backend += " [fallback: " + loader->fallback_reason() + "]";
  return run;
}

double mb(double bytes) { return bytes / 1e6; }

}  // namespace

int run_bench_loader(int argc, char** argv) {
  ArgParser args("bench loader",
                 "Expert loader bandwidth against fio on the same file, same request size and queue depth.");
  std::string model_path, request_text = "blob", backend = "auto", pattern = "extents";
  int64_t depth = kDefaultQueueDepth, seed = 1;
  double seconds = 5, throttle_mbps = 0;
  bool sweep = false, no_fio = false, no_verify = false, drop_caches = false, keep_cache = false;
  args.positional("MODEL.mst", &model_path, "the model container");
  args.option("--request-size", &request_text, "SIZE", "bytes per read request (default 'blob' = whole blob)");
  args.option("--queue-depth", &depth, "N", "reads in flight (default 8)", 1, 4096);
  args.option("--seconds", &seconds, "S", "duration of each measurement (default 5)", 0.01, 3600);
  args.option("--throttle-mbps", &throttle_mbps, "MB/s",
              "simulate a device this slow in the loader, in 10^6 bytes/s (skips fio; 0 = off)", 0, 1e7);
  args.option("--io-backend", &backend, "auto|pread", "loader read path (default auto = io_uring)");
  args.option("--seed", &seed, "N", "random expert order", 0, INT64_MAX);
  args.option("--fio-pattern", &pattern, "extents|random",
              "fio reads random blob-sized extents in request-size pieces like the loader (default), or "
              "every request at a random offset");
  args.flag("--sweep", &sweep, "try 256K, 512K, 1M and whole blobs at QD 8, 32 and 64");
  args.flag("--no-fio", &no_fio, "measure the loader only");
  args.flag("--no-verify", &no_verify, "skip the xxh3 check of each blob");
  args.flag("--drop-caches", &drop_caches,
            "first sync and drop the WHOLE machine's page cache (echo 3 > /proc/sys/vm/drop_caches; needs "
            "root; slows every other process until its files are read again). Off by default: the "
            "reads use O_DIRECT and bypass the page cache anyway");
  args.flag("--keep-page-cache", &keep_cache, "(the default now; kept for old scripts)");
  if (!args.parse(argc, argv)) return args.exit_code();
  if (backend != "auto" && backend != "pread") {
    return usage_error("bench loader", "--io-backend takes auto or pread, not '" + backend + "'");
  }
  if (pattern != "extents" && pattern != "random") {
    return usage_error("bench loader", "--fio-pattern takes extents or random, not '" + pattern + "'");
  }
  if (drop_caches && keep_cache) return usage_error("bench loader", "--drop-caches and --keep-page-cache contradict");
  auto opened = ContainerReader::open(model_path);
  if (!opened.ok()) return report_error(opened.status());
  const ContainerReader& reader = **opened;
  auto scanned = expert_blobs(reader);
  if (!scanned.ok()) return report_error(scanned.status());
  const std::vector<ExpertBlobInfo>& blobs = scanned->blobs;
  const uint64_t region_begin = scanned->region_begin, region_end = scanned->region_end;
  const uint64_t whole_blob = align_up(blobs.front().padded_size, kPageSize);
  std::vector<uint64_t> sizes;
  std::vector<int64_t> depths;
  if (sweep) {
    sizes = {256u << 10, 512u << 10, 1u << 20, whole_blob};
    depths = {8, 32, 64};
  } else {
    auto r = request_text == "blob" ? std::optional<uint64_t>(whole_blob) : parse_byte_size(request_text);
    if (!r || *r == 0 || *r % kPageSize != 0 || *r > (1u << 30)) {
      return usage_error("bench loader", "--request-size takes 'blob' or a multiple of 4K up to 1G, not '" +
                                             request_text + "'");
    }
    sizes = {*r};
    depths = {depth};
  }
  std::printf("%s: %zu expert blobs, %s raw, %s stored (%s), expert region %s\n", model_path.c_str(), blobs.size(),
              format_bytes(scanned->raw_total).c_str(), format_bytes(scanned->stored_total).c_str(),
              blobs.front().compression == BlobCompression::kZstd ? "zstd" : "uncompressed",
              format_bytes(region_end - region_begin).c_str());
  std::printf("%s\n", drop_caches ? drop_page_cache().c_str() : "page cache kept (--drop-caches drops it first)");
  const bool use_fio = !no_fio && throttle_mbps <= 0;
  if (throttle_mbps > 0) std::printf("simulated device: token bucket at %.0f MB/s in the loader's read path\n", throttle_mbps);
  std::printf("%-10s %4s %12s %12s %12s %7s\n", "request", "QD", "fio MB/s", "loader MB/s", "deliv. MB/s", "ratio");
  double best_ratio = 0;
  for (uint64_t size : sizes) {
    for (int64_t qd : depths) {
      double fio_bw = 0;
      std::string fio_cmd;
      if (use_fio) {
        const uint64_t run_length = pattern == "extents" ? (whole_blob + size - 1) / size : 1;
        auto f = run_fio(model_path, region_begin, region_end - region_begin, size, static_cast<unsigned>(qd), seconds,
                         run_length, &fio_cmd);
        if (!f.ok()) {
          std::printf("fio: %s\n", f.status().message().c_str());
        } else {
          fio_bw = *f;
        }
      }
      ExpertLoaderOptions options;
      options.request_size = static_cast<uint32_t>(size);
      options.queue_depth = static_cast<unsigned>(qd);
      options.force_pread = backend == "pread";
      options.verify_checksums = !no_verify;
      options.throttle_bytes_per_second = throttle_mbps * 1e6;
      auto run = run_loader(reader, blobs, options, seconds, static_cast<uint64_t>(seed));
      if (!run.ok()) return report_error(run.status());
      const double ratio = fio_bw > 0 ? run->device_bytes_per_s / fio_bw : 0;
      best_ratio = std::max(best_ratio, ratio);
      const std::string label = size == whole_blob ? "blob" : format_bytes(size);
      std::printf("%-10s %4lld %12.0f %12.0f %12.0f %7s\n", label.c_str(), static_cast<long long>(qd), mb(fio_bw),
                  mb(run->device_bytes_per_s), mb(run->delivered_bytes_per_s),
                  fio_bw > 0 ? (std::to_string(ratio).substr(0, 5)).c_str() : "-");
      std::fflush(stdout);
      if (sizes.size() == 1 && depths.size() == 1) {
        std::printf("loader: %s, %llu blobs in %.0f s\n", run->backend.c_str(),
                    static_cast<unsigned long long>(run->blobs), seconds);
        if (!fio_cmd.empty()) std::printf("fio: %s\n", fio_cmd.c_str());
      }
    }
  }
  if (use_fio) {
    std::printf("best loader/fio ratio %.3f (goal >= 0.95); fio pattern: %s\n", best_ratio,
                pattern == "extents" ? "random blob-sized extents in request-size pieces"
                                     : "every request at a random offset");
  }
  return 0;
}

}  // namespace moestream::cli
