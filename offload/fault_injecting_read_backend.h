// Wraps a ReadBackend and breaks chosen reads: EIO, short reads, or flipped bytes (a
// checksum mismatch). Tests inject it to check the loader's retries and error messages;
// each rule fires a bounded number of times (or forever).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "offload/read_backend.h"

namespace moestream {

struct ReadFault {
  enum class Kind { kEio, kShortRead, kCorrupt };
  Kind kind = Kind::kEio;
  uint64_t begin = 0;  // fires on reads overlapping [begin, end) of the file
  uint64_t end = 0;
  int times = 1;       // < 0: every time
};

// Owns the wrapped backend. Same contract as ReadBackend (single calling thread); fired() is
// thread-safe (mutex_).
class FaultInjectingReadBackend : public ReadBackend {
 public:
  FaultInjectingReadBackend(std::unique_ptr<ReadBackend> inner, std::vector<ReadFault> faults)
      : inner_(std::move(inner)), faults_(std::move(faults)) {}

  std::string describe() const override { return "fault-injecting " + inner_->describe(); }
  unsigned queue_depth() const override { return inner_->queue_depth(); }
  unsigned in_flight() const override { return inner_->in_flight(); }
  bool direct_io() const override { return inner_->direct_io(); }
  void register_buffers(const std::vector<iovec>& buffers) override { inner_->register_buffers(buffers); }
  Status submit(std::span<const ReadRequest> requests) override;
  Result<unsigned> wait(std::vector<ReadCompletion>& out, unsigned min_complete) override;

  int fired() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return fired_;
  }

 private:
  std::unique_ptr<ReadBackend> inner_;
  mutable std::mutex mutex_;
  std::vector<ReadFault> faults_;
  std::vector<ReadRequest> pending_;  // by tag, to know what each completion read
  int fired_ = 0;
};

}  // namespace moestream
