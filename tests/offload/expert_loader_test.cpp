#include "offload/expert_loader.h"

#include <doctest/doctest.h>

#include <sched.h>

#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "offload/fault_injecting_read_backend.h"
#include "platform/clock.h"
#include "support/synth_container.h"

using namespace moestream;
using namespace moestream::testing;

namespace {

// Loads every expert of `layer` into its own buffer; returns the per-job statuses.
struct LoadAll {
  std::vector<AlignedBuffer> buffers;
  std::map<uint64_t, Status> results;
  std::string fallback_reason;
  LoaderCounters counters;
};

LoadAll load_layer(const ContainerReader& reader, int64_t layer, ExpertLoaderOptions options,
                   std::unique_ptr<ReadBackend> backend = nullptr) {
  LoadAll out;
  std::mutex m;
  const int64_t n = reader.config().n_routed_experts;
  std::vector<iovec> iov;
  uint64_t staging = 0;
  for (int64_t e = 0; e < n; ++e) {
    const ExpertBlobInfo b = reader.expert_blob(layer, e).value();
    auto buf = AlignedBuffer::allocate(align_up(std::max(b.raw_size, b.padded_size), 4096));
    REQUIRE(buf.ok());
    iov.push_back({buf->data(), buf->size()});
    out.buffers.push_back(std::move(buf).value());
    if (b.compression != BlobCompression::kNone) staging = std::max(staging, b.padded_size);
  }
  options.staging_buffer_size = staging;
  auto loader = ExpertLoader::create(reader.path(), options, iov,
                                     [&](uint64_t id, const Status& s) {
                                       std::lock_guard<std::mutex> lock(m);
                                       out.results[id] = s;
                                     },
                                     std::move(backend));
  REQUIRE_MESSAGE(loader.ok(), loader.status().to_string());
  std::vector<LoadJob> jobs;
  for (int64_t e = 0; e < n; ++e) {
    LoadJob j;
    j.id = static_cast<uint64_t>(e);
    j.blob = reader.expert_blob(layer, e).value();
    j.destination = out.buffers[e].data();
    j.destination_buffer = static_cast<int>(e);
    j.urgent = e % 2 == 0;
    jobs.push_back(j);
  }
  (*loader)->submit(std::move(jobs));
  (*loader)->drain();
  out.fallback_reason = (*loader)->fallback_reason();
  out.counters = (*loader)->counters();
  return out;
}

// The raw bytes of an expert as the resident path sees them.
bool same_as_mapped(const ContainerReader& raw_reader, int64_t layer, int64_t e, const uint8_t* data) {
  const ExpertBlobInfo b = raw_reader.expert_blob(layer, e).value();
  return std::memcmp(raw_reader.file().data() + b.offset, data, b.raw_size) == 0;
}

// A buffer per expert 0..n-1 of `layer` (filled with `fill`), and the iovecs the loader registers.
struct ExpertBuffers {
  std::vector<AlignedBuffer> buffers;
  std::vector<iovec> iov;
};

ExpertBuffers expert_buffers(const ContainerReader& reader, int64_t layer, int64_t n, uint8_t fill = 0) {
  ExpertBuffers out;
  for (int64_t e = 0; e < n; ++e) {
    const ExpertBlobInfo b = reader.expert_blob(layer, e).value();
    auto buf = AlignedBuffer::allocate(align_up(std::max(b.raw_size, b.padded_size), 4096));
    REQUIRE(buf.ok());
    std::memset(buf->data(), fill, buf->size());
    out.iov.push_back({buf->data(), buf->size()});
    out.buffers.push_back(std::move(buf).value());
  }
  return out;
}

// Job e reads expert e of `layer` into buffer e; demand when `urgent(e)`, else a prefetch.
std::vector<LoadJob> expert_jobs(const ContainerReader& reader, int64_t layer, ExpertBuffers& b,
                                 const std::function<bool(int64_t)>& urgent) {
  std::vector<LoadJob> jobs;
  for (int64_t e = 0; e < static_cast<int64_t>(b.buffers.size()); ++e) {
    LoadJob j;
    j.id = static_cast<uint64_t>(e);
    j.blob = reader.expert_blob(layer, e).value();
    j.destination = b.buffers[static_cast<size_t>(e)].data();
    j.destination_buffer = static_cast<int>(e);
    j.urgent = urgent(e);
    jobs.push_back(j);
  }
  return jobs;
}

std::unique_ptr<ReadBackend> plain_backend(const std::string& path) {
  std::string reason;
  ReadBackendOptions o;
  auto b = open_read_backend(path, o, &reason);
  REQUIRE(b.ok());
  return std::move(b).value();
}

}  // namespace

TEST_CASE("the loader reads every blob of a layer in small requests, byte-exact, raw and zstd") {
  TempDir dir;
  const std::string raw_path = synth_container(dir, "raw.mst");
  const std::string zstd_path = synth_container(dir, "zstd.mst", -1, -1, /*zstd=*/true);
  auto raw = ContainerReader::open(raw_path);
  auto packed = ContainerReader::open(zstd_path);
  REQUIRE(raw.ok());
  REQUIRE(packed.ok());
  CHECK((*packed)->expert_blob(1, 0)->compression == BlobCompression::kZstd);
  for (bool force_pread : {false, true}) {
    for (const ContainerReader* reader : {raw->get(), packed->get()}) {
      ExpertLoaderOptions options;
      options.request_size = 16384;  // several requests per blob
      options.queue_depth = 4;
      options.force_pread = force_pread;
      LoadAll all = load_layer(*reader, 1, options);
      REQUIRE(all.results.size() == static_cast<size_t>(reader->config().n_routed_experts));
      for (auto& [id, s] : all.results) {
        CHECK_MESSAGE(s.ok(), s.to_string());
        CHECK(same_as_mapped(**raw, 1, static_cast<int64_t>(id), all.buffers[id].data()));
      }
      CHECK(all.counters.retries == 0);
      CHECK(all.counters.blobs_loaded == all.results.size());
      CHECK(all.counters.requests > all.results.size());
      // The fallback says why, once, and only when taken.
      CHECK(all.fallback_reason.empty() != force_pread);
    }
  }
}

namespace {

// What the recording backend saw; owned by the test (the loader owns and destroys the backend).
struct OrderRecord {
  int demand_in_flight_at_prefetch = 0;  // most demand reads under way when a prefetch read started
  int first_prefetch_after = -1;         // demand reads completed when the first prefetch read started
  int demand_submitted = 0;
  int prefetch_in_flight_max = 0;        // most prefetch reads under way at once
  uint32_t prefetch_request_max = 0;     // largest prefetch request
  uint32_t demand_request_max = 0;       // largest demand request
  int demand_in_flight_max = 0;          // most demand reads under way at once
  // Called on each prefetch request as it is submitted (from the loader's I/O thread).
  std::function<void(uint64_t offset)> on_prefetch;
  // Ranges counted as demand from the next request on (a promoted prefetch's blob).
  std::vector<std::pair<uint64_t, uint64_t>> promoted;
};

// Passes reads through and records, for each request of a prefetch (background) blob, how many
// demand requests had completed and were in flight when it was submitted.
class OrderRecordingBackend : public ReadBackend {
 public:
  OrderRecordingBackend(std::unique_ptr<ReadBackend> inner, std::vector<std::pair<uint64_t, uint64_t>> demand,
                        OrderRecord& record)
      : inner_(std::move(inner)), demand_(std::move(demand)), record_(record) {}
  std::string describe() const override { return inner_->describe(); }
  unsigned queue_depth() const override { return inner_->queue_depth(); }
  unsigned in_flight() const override { return inner_->in_flight(); }
  bool direct_io() const override { return inner_->direct_io(); }
  void register_buffers(const std::vector<iovec>& buffers) override { inner_->register_buffers(buffers); }
  Status submit(std::span<const ReadRequest> requests) override {
    for (const ReadRequest& r : requests) {
      const bool is_demand = demand(r.offset);
      if (is_demand) {
        record_.demand_in_flight_max = std::max(record_.demand_in_flight_max, ++demand_in_flight_);
        ++record_.demand_submitted;
        record_.demand_request_max = std::max(record_.demand_request_max, r.length);
      } else {
        record_.demand_in_flight_at_prefetch = std::max(record_.demand_in_flight_at_prefetch, demand_in_flight_);
        if (record_.first_prefetch_after < 0) record_.first_prefetch_after = demand_completed_;
        record_.prefetch_in_flight_max = std::max(record_.prefetch_in_flight_max, ++prefetch_in_flight_);
        record_.prefetch_request_max = std::max(record_.prefetch_request_max, r.length);
        if (record_.on_prefetch) record_.on_prefetch(r.offset);
      }
      was_demand_[r.tag] = is_demand;
    }
    return inner_->submit(requests);
  }
  Result<unsigned> wait(std::vector<ReadCompletion>& out, unsigned min_complete) override {
    const size_t before = out.size();
    auto got = inner_->wait(out, min_complete);
    for (size_t i = before; i < out.size(); ++i) {
      if (was_demand_[out[i].tag]) {
        --demand_in_flight_, ++demand_completed_;
      } else {
        --prefetch_in_flight_;
      }
    }
    return got;
  }

 private:
  bool demand(uint64_t offset) const {
    using Ranges = std::vector<std::pair<uint64_t, uint64_t>>;
    for (const Ranges* ranges : {static_cast<const Ranges*>(&demand_), static_cast<const Ranges*>(&record_.promoted)}) {
      for (const auto& [b, e] : *ranges) {
        if (offset >= b && offset < e) return true;
      }
    }
    return false;
  }
  std::unique_ptr<ReadBackend> inner_;
  std::vector<std::pair<uint64_t, uint64_t>> demand_;
  OrderRecord& record_;
  std::map<uint64_t, bool> was_demand_;
  int demand_in_flight_ = 0, demand_completed_ = 0, prefetch_in_flight_ = 0;
};

// A synthetic container in a temp dir, opened: where most cases start.
struct OpenedContainer {
  TempDir dir;
  std::string path;
  std::unique_ptr<ContainerReader> reader;
  OpenedContainer() : path(synth_container(dir, "raw.mst")) {
    auto opened = ContainerReader::open(path);
    REQUIRE(opened.ok());
    reader = std::move(opened).value();
  }
};

}  // namespace

TEST_CASE_FIXTURE(OpenedContainer, "prefetch reads wait while any demand read is under way") {
  // load_layer makes even experts demand jobs and odd ones prefetches, all in one submit.
  std::vector<std::pair<uint64_t, uint64_t>> demand;
  for (int64_t e = 0; e < reader->config().n_routed_experts; e += 2) {
    const ExpertBlobInfo b = reader->expert_blob(1, e).value();
    demand.emplace_back(b.offset, b.offset + b.padded_size);
  }
  OrderRecord record;
  ExpertLoaderOptions options;
  options.request_size = 16384;
  options.queue_depth = 8;
  LoadAll all = load_layer(*reader, 1, options, std::make_unique<OrderRecordingBackend>(plain_backend(path), demand, record));
  for (auto& [id, s] : all.results) CHECK_MESSAGE(s.ok(), s.to_string());
  CHECK(record.demand_submitted > 8);  // more demand requests than the queue holds
  CHECK(record.demand_in_flight_at_prefetch == 0);
  CHECK(record.first_prefetch_after == record.demand_submitted);
  CHECK(record.prefetch_in_flight_max >= 1);
  CHECK(record.prefetch_in_flight_max <= 2);  // ExpertLoaderOptions::prefetch_in_flight
}

TEST_CASE_FIXTURE(OpenedContainer, "the loader counts the time a read is in flight, not the time it idles") {
  const int64_t n = reader->config().n_routed_experts;
  uint64_t bytes = 0;
  for (int64_t e = 0; e < n; ++e) bytes += reader->expert_blob(1, e).value().padded_size;
  ExpertLoaderOptions options;
  options.throttle_bytes_per_second = static_cast<double>(bytes) / 0.2;  // a layer takes 200 ms
  ExpertBuffers b = expert_buffers(*reader, 1, n);
  auto loader = ExpertLoader::create(path, options, b.iov, [](uint64_t, const Status&) {});
  REQUIRE(loader.ok());
  const auto idle = [] { std::this_thread::sleep_for(std::chrono::milliseconds(50)); };
  idle();
  CHECK((*loader)->counters().busy_ns == 0);
  uint64_t before = 0;
  for (int round = 0; round < 2; ++round) {
    const uint64_t start = now_ns();
    (*loader)->submit(expert_jobs(*reader, 1, b, [](int64_t) { return true; }));
    (*loader)->drain();
    const uint64_t after_reads = (*loader)->counters().busy_ns;
    const uint64_t wall = now_ns() - start;
    CHECK(after_reads - before >= 150'000'000u);  // the throttled reads take 200 ms
    CHECK(after_reads - before <= wall);
    idle();  // nothing in flight: the counter stands still
    before = (*loader)->counters().busy_ns;
    CHECK(before - after_reads <= 2'000'000u);
  }
}

TEST_CASE_FIXTURE(OpenedContainer, "prefetches go in small requests, few at a time, and a started one a demand asks for is promoted") {
  const int64_t n = reader->config().n_routed_experts;
  const ExpertBlobInfo first = reader->expert_blob(1, 0).value();
  REQUIRE(first.padded_size >= 4 * 4096);  // several prefetch requests per blob
  ExpertBuffers buffers = expert_buffers(*reader, 1, n);
  // Every blob a prefetch; expert 0's offsets are reported as "demand" once it is promoted.
  std::vector<std::pair<uint64_t, uint64_t>> none;
  OrderRecord record;
  std::mutex m;
  std::vector<uint64_t> finished;
  ExpertLoaderOptions options;
  options.request_size = 1u << 20;
  options.prefetch_request_size = 4096;
  options.prefetch_in_flight = 1;
  options.queue_depth = 8;
  auto loader = ExpertLoader::create(path, options, buffers.iov,
                                     [&](uint64_t id, const Status& s) {
                                       CHECK_MESSAGE(s.ok(), s.to_string());
                                       std::lock_guard<std::mutex> lock(m);
                                       finished.push_back(id);
                                     },
                                     std::make_unique<OrderRecordingBackend>(plain_backend(path), none, record));
  REQUIRE(loader.ok());
  // Expert 0's first request is under way: a demand for it now promotes the started job.
  int expert0_requests_before = 0;
  bool promoted = false;
  record.on_prefetch = [&](uint64_t offset) {
    if (offset >= first.offset && offset < first.offset + first.padded_size) {
      ++expert0_requests_before;
      if (!promoted) {
        promoted = true;
        record.promoted.emplace_back(first.offset, first.offset + first.padded_size);
        (*loader)->promote(0);
      }
    }
  };
  (*loader)->submit(expert_jobs(*reader, 1, buffers, [](int64_t) { return false; }));
  (*loader)->drain();
  CHECK(promoted);
  // Expert 0 went one 4 KiB prefetch request at a time until the promotion (the one under way
  // then, or the few before the I/O thread saw it), then as a demand read, many at a time.
  CHECK(expert0_requests_before >= 1);
  CHECK(expert0_requests_before < static_cast<int>(first.padded_size / 4096));
  CHECK(record.demand_submitted + expert0_requests_before == static_cast<int>(first.padded_size / 4096));
  CHECK(record.demand_in_flight_max > 1);  // promoted: no longer one prefetch request at a time
  CHECK(record.prefetch_request_max == 4096);
  CHECK(record.prefetch_in_flight_max == 1);
  std::lock_guard<std::mutex> lock(m);
  REQUIRE(finished.size() == static_cast<size_t>(n));
  CHECK(finished.front() == 0);
  for (int64_t e = 0; e < n; ++e) {
    const ExpertBlobInfo b = reader->expert_blob(1, e).value();
    CHECK(std::memcmp(reader->file().data() + b.offset, buffers.buffers[e].data(), b.raw_size) == 0);
  }
}

TEST_CASE_FIXTURE(OpenedContainer, "a cancelled prefetch is dropped unread and uncalled-back before it starts, and stops issuing requests after") {
  const int64_t n = reader->config().n_routed_experts;
  REQUIRE(n >= 4);
  const ExpertBlobInfo first = reader->expert_blob(1, 0).value();
  REQUIRE(first.padded_size >= 4 * 4096);  // several requests: a stopped job leaves most unread
  ExpertBuffers buffers = expert_buffers(*reader, 1, n, 0xEE);
  std::vector<std::pair<uint64_t, uint64_t>> none;
  OrderRecord record;
  std::mutex m;
  std::map<uint64_t, Status> called_back;
  ExpertLoaderOptions options;
  options.prefetch_request_size = 4096;
  options.prefetch_in_flight = 1;
  auto loader = ExpertLoader::create(path, options, buffers.iov,
                                     [&](uint64_t id, const Status& s) {
                                       std::lock_guard<std::mutex> lock(m);
                                       called_back[id] = s;
                                     },
                                     std::make_unique<OrderRecordingBackend>(plain_backend(path), none, record));
  REQUIRE(loader.ok());
  // While expert 0's first request is under way, cancel every job.
  using Cancel = ExpertLoader::CancelResult;
  std::map<uint64_t, Cancel> result;
  std::map<uint64_t, int> requests;  // per expert
  record.on_prefetch = [&](uint64_t offset) {
    for (int64_t e = 0; e < n; ++e) {
      const ExpertBlobInfo b = reader->expert_blob(1, e).value();
      if (offset >= b.offset && offset < b.offset + b.padded_size) ++requests[static_cast<uint64_t>(e)];
    }
    if (!result.empty() || offset != first.offset) return;
    for (uint64_t e = 0; e < static_cast<uint64_t>(n); ++e) result[e] = (*loader)->cancel(e);
  };
  (*loader)->submit(expert_jobs(*reader, 1, buffers, [](int64_t) { return false; }));
  (*loader)->drain();  // returns: dropped jobs no longer count as outstanding
  REQUIRE(result.size() == static_cast<size_t>(n));
  CHECK(result[0] == Cancel::kStopping);
  int dropped = 0;
  std::lock_guard<std::mutex> lock(m);
  for (const auto& [e, r] : result) {
    CAPTURE(e);
    if (r == Cancel::kDropped) {
      ++dropped;
      CHECK(called_back.count(e) == 0);     // never called back
      CHECK(requests.count(e) == 0);        // no request was sent for it
      CHECK(buffers.buffers[e].data()[0] == 0xEE);  // and its buffer was not touched
    } else {
      REQUIRE(r == Cancel::kStopping);
      REQUIRE(called_back.count(e) == 1);
      CHECK(called_back[e].code() == ErrorCode::kCancelled);
      CHECK(called_back[e].message().find("expert " + std::to_string(e)) != std::string::npos);
    }
  }
  CHECK(dropped >= n - 2);  // at most one more had started
  // Expert 0 stopped after the request that was under way: the rest of it was never asked for.
  CHECK(requests[0] < static_cast<int>(first.padded_size / 4096));
  CHECK((*loader)->counters().cancelled == static_cast<uint64_t>(n));
  CHECK((*loader)->counters().blobs_failed == 0);
  CHECK((*loader)->cancel(0) == Cancel::kNone);  // called back: nothing left to stop
}

TEST_CASE_FIXTURE(OpenedContainer, "prefetched blobs are checked on a thread at idle priority, demand blobs on normal ones") {
  // Which scheduling policy each thread of this process has, by thread id.
  auto idle_threads = [] {
    int idle = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
      const pid_t tid = static_cast<pid_t>(std::stol(entry.path().filename().string()));
      if (::sched_getscheduler(tid) == SCHED_IDLE) ++idle;
    }
    return idle;
  };
  const int before = idle_threads();
  std::map<uint64_t, int> policy;  // job id -> the policy of the thread that called back
  std::mutex m;
  ExpertBuffers buffers = expert_buffers(*reader, 1, 2);
  auto loader = ExpertLoader::create(path, ExpertLoaderOptions{}, buffers.iov, [&](uint64_t id, const Status& s) {
    CHECK(s.ok());
    std::lock_guard<std::mutex> lock(m);
    policy[id] = ::sched_getscheduler(0);
  });
  REQUIRE(loader.ok());
  (*loader)->submit(expert_jobs(*reader, 1, buffers, [](int64_t e) { return e == 0; }));
  (*loader)->drain();
  CHECK(idle_threads() == before + 1);
  std::lock_guard<std::mutex> lock(m);
  CHECK(policy[0] == SCHED_OTHER);  // demand
  CHECK(policy[1] == SCHED_IDLE);   // prefetch
}

TEST_CASE_FIXTURE(OpenedContainer, "transient EIO and short reads are retried, persistent ones fail naming layer, expert and file") {
  const ExpertBlobInfo victim = reader->expert_blob(2, 5).value();
  ExpertLoaderOptions options;
  options.request_size = 16384;
  options.max_attempts = 3;

  SUBCASE("transient") {
    std::vector<ReadFault> faults = {{ReadFault::Kind::kEio, victim.offset, victim.offset + 1, 2},
                                     {ReadFault::Kind::kShortRead, victim.offset + 16384, victim.offset + 16385, 1}};
    // (The loader owns and destroys the backend; its retry counter says the faults fired.)
    LoadAll all = load_layer(*reader, 2, options,
                             std::make_unique<FaultInjectingReadBackend>(plain_backend(path), faults));
    for (auto& [id, s] : all.results) CHECK_MESSAGE(s.ok(), s.to_string());
    CHECK(same_as_mapped(*reader, 2, 5, all.buffers[5].data()));
    CHECK(all.counters.retries == 3);
  }
  SUBCASE("persistent EIO") {
    std::vector<ReadFault> faults = {{ReadFault::Kind::kEio, victim.offset, victim.offset + 1, -1}};
    LoadAll all = load_layer(*reader, 2, options,
                             std::make_unique<FaultInjectingReadBackend>(plain_backend(path), faults));
    const Status& s = all.results.at(5);
    CHECK(s.code() == ErrorCode::kIoError);
    CHECK(s.message().find("layer 2 expert 5") != std::string::npos);
    CHECK(s.message().find(path) != std::string::npos);
    CHECK(s.message().find("3 attempts") != std::string::npos);
    for (auto& [id, st] : all.results) {
      if (id != 5) CHECK(st.ok());
    }
  }
  SUBCASE("persistent short reads") {
    std::vector<ReadFault> faults = {{ReadFault::Kind::kShortRead, victim.offset, victim.offset + 1, -1}};
    LoadAll all = load_layer(*reader, 2, options,
                             std::make_unique<FaultInjectingReadBackend>(plain_backend(path), faults));
    CHECK(all.results.at(5).message().find("short read") != std::string::npos);
    CHECK(all.results.at(5).message().find("layer 2 expert 5") != std::string::npos);
  }
  SUBCASE("a flipped byte is a checksum mismatch") {
    std::vector<ReadFault> faults = {{ReadFault::Kind::kCorrupt, victim.offset, victim.offset + 1, 1}};
    LoadAll all = load_layer(*reader, 2, options,
                             std::make_unique<FaultInjectingReadBackend>(plain_backend(path), faults));
    CHECK(all.results.at(5).code() == ErrorCode::kCorrupt);
    CHECK(all.results.at(5).message().find("checksum mismatch") != std::string::npos);
    CHECK(all.results.at(5).message().find("expert 5 of layer 2") != std::string::npos);
  }
}

TEST_CASE("bad loader options are refused") {
  TempDir dir;
  const std::string path = synth_container(dir, "m.mst");
  ExpertLoaderOptions options;
  options.request_size = 1000;
  auto loader = ExpertLoader::create(path, options, {}, [](uint64_t, const Status&) {});
  CHECK_FALSE(loader.ok());
  options.request_size = 4096;
  options.queue_depth = 0;
  CHECK_FALSE(ExpertLoader::create(path, options, {}, [](uint64_t, const Status&) {}).ok());
  options.queue_depth = 8;
  options.prefetch_request_size = 6000;
  auto bad = ExpertLoader::create(path, options, {}, [](uint64_t, const Status&) {});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("prefetch request size must be a positive multiple of 4096, got 6000") !=
        std::string::npos);
  options.prefetch_request_size = 4096;
  options.prefetch_in_flight = 0;
  bad = ExpertLoader::create(path, options, {}, [](uint64_t, const Status&) {});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("prefetch requests in flight must be at least 1") != std::string::npos);
  options.prefetch_in_flight = 1;
  CHECK(ExpertLoader::create(path, options, {}, [](uint64_t, const Status&) {}).ok());
}
