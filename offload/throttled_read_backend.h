// A simulated slow device: wraps a backend and holds each completion back until a token
// bucket of `bytes_per_second` has paid for it, so the delivered bandwidth never exceeds
// the limit. `bench loader --throttle-mbps` uses it to show where zstd-compressed blobs beat
// raw ones (no root or cgroup io.max needed; the limit is simulated, not the kernel's).
#pragma once

#include <deque>
#include <memory>

#include "offload/read_backend.h"

namespace moestream {

// Owns the wrapped backend. Same contract as ReadBackend: not thread-safe, single calling
// thread.
class ThrottledReadBackend : public ReadBackend {
 public:
  ThrottledReadBackend(std::unique_ptr<ReadBackend> inner, double bytes_per_second)
      : inner_(std::move(inner)), bytes_per_second_(bytes_per_second) {}

  std::string describe() const override;
  unsigned queue_depth() const override { return inner_->queue_depth(); }
  unsigned in_flight() const override { return inner_->in_flight() + static_cast<unsigned>(held_.size()); }
  bool direct_io() const override { return inner_->direct_io(); }
  void register_buffers(const std::vector<iovec>& buffers) override { inner_->register_buffers(buffers); }
  Status submit(std::span<const ReadRequest> requests) override { return inner_->submit(requests); }
  Result<unsigned> wait(std::vector<ReadCompletion>& out, unsigned min_complete) override;

 private:
  struct Held {
    ReadCompletion completion;
    uint64_t release_ns;
  };
  std::unique_ptr<ReadBackend> inner_;
  double bytes_per_second_;
  uint64_t next_free_ns_ = 0;  // when the simulated device is idle again
  std::deque<Held> held_;
};

}  // namespace moestream
