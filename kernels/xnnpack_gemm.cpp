#include "kernels/xnnpack_gemm.h"

#include <pthreadpool.h>
#include <xnnpack.h>

#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace moestream::kernels {
namespace {

Status initialize_once() {
  static std::once_flag once;
  static xnn_status status = xnn_status_success;
  std::call_once(once, [] { status = xnn_initialize(nullptr); });
  if (status != xnn_status_success) {
    return unsupported("XNNPACK failed to initialize (status " + std::to_string(static_cast<int>(status)) + ")");
  }
  return ok_status();
}

// One pthreadpool per thread count for the whole process (never destroyed: operators may
// outlive any owner we could pick).
std::shared_ptr<void> shared_pool(int64_t threads) {
  static std::mutex mutex;
  static std::map<int64_t, std::shared_ptr<void>> pools;
  const std::lock_guard<std::mutex> lock(mutex);
  std::shared_ptr<void>& pool = pools[threads];
  if (!pool) {
    pool = std::shared_ptr<void>(pthreadpool_create(static_cast<size_t>(threads)), [](void* p) {
      if (p != nullptr) pthreadpool_destroy(static_cast<pthreadpool_t>(p));
    });
  }
  return pool;
}

}  // namespace

Result<std::unique_ptr<XnnpackLinear>> XnnpackLinear::create(const float* weights, int64_t out, int64_t in,
                                                             int64_t threads) {
  MOESTREAM_TRY(initialize_once());
  std::unique_ptr<XnnpackLinear> linear(new XnnpackLinear());
  linear->in_ = in;
  linear->out_ = out;
  linear->pool_ = shared_pool(threads < 0 ? 0 : threads);
  const std::vector<float> bias(static_cast<size_t>(out), 0.0f);
  xnn_operator_t op = nullptr;
  const float inf = std::numeric_limits<float>::infinity();
  const xnn_status s = xnn_create_fully_connected_nc_f32(static_cast<size_t>(in), static_cast<size_t>(out),
                                                         static_cast<size_t>(in), static_cast<size_t>(out),
                                                         weights, bias.data(), -inf, inf, 0, &op);
  if (s != xnn_status_success) {
    return unsupported("xnn_create_fully_connected_nc_f32 failed (status " + std::to_string(static_cast<int>(s)) + ")");
  }
  linear->op_ = op;
  return linear;
}

XnnpackLinear::~XnnpackLinear() {
  if (op_ != nullptr) xnn_delete_operator(static_cast<xnn_operator_t>(op_));
}

Status XnnpackLinear::run(const float* x, int64_t batch, float* y) {
  auto* op = static_cast<xnn_operator_t>(op_);
  auto* pool = static_cast<pthreadpool_t>(pool_.get());
  xnn_status s = xnn_setup_fully_connected_nc_f32(op, static_cast<size_t>(batch), x, y, pool);
  if (s == xnn_status_success) s = xnn_run_operator(op, pool);
  if (s != xnn_status_success) {
    return internal_error("XNNPACK fully-connected run failed (status " + std::to_string(static_cast<int>(s)) + ")");
  }
  return ok_status();
}

}  // namespace moestream::kernels
