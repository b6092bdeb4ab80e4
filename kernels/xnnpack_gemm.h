// XNNPACK's f32 fully-connected operator (Debian's 2022-02 snapshot: create packs the
// weights, then setup + run per call) behind a small class, for comparison with the FP8
// kernels and for shapes where it wins (see docs/kernels.md: prefill over weights that
// stay resident as f32).
#pragma once

#include <cstdint>
#include <memory>

#include "platform/status.h"

namespace moestream::kernels {

class XnnpackLinear {
 public:
  // weights: row-major [out, in] f32, copied (packed) by XNNPACK; `threads` for its
  // pthreadpool (0 = hardware concurrency). Operators with the same thread count share one
  // pool: separate pools kept spinning threads of one operator competing with the next
  // (bench kernels rotating 17 copies ran at a quarter of the speed).
  static Result<std::unique_ptr<XnnpackLinear>> create(const float* weights, int64_t out, int64_t in,
                                                       int64_t threads);
  ~XnnpackLinear();
  XnnpackLinear(const XnnpackLinear&) = delete;
  XnnpackLinear& operator=(const XnnpackLinear&) = delete;

  // y[batch, out] = x[batch, in] W^T.
  Status run(const float* x, int64_t batch, float* y);

  int64_t in() const { return in_; }
  int64_t out() const { return out_; }

 private:
  XnnpackLinear() = default;
  void* op_ = nullptr;    // xnn_operator_t
  std::shared_ptr<void> pool_;  // pthreadpool_t, shared per thread count
  int64_t in_ = 0, out_ = 0;
};

}  // namespace moestream::kernels
