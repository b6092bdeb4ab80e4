#include "runtime/linear.h"

#include "format/dtype.h"
#include "platform/float_formats.h"

namespace moestream {
namespace {

std::string shape_string(const TensorView& view) {
  std::string s = "[";
  for (uint32_t i = 0; i < view.rank; ++i) {
    if (i) s += ", ";
    s += std::to_string(view.shape[i]);
  }
  return s + "]";
}

}  // namespace

std::string layer_prefix(int64_t layer) { return "model.layers." + std::to_string(layer) + "."; }

Result<kernels::WeightRef> weight_ref_from_view(const TensorView& view, int64_t expected_rows,
                                                int64_t expected_cols) {
  // The name is built only for an error: this runs for every expert a step uses.
  const auto name = [&] { return std::string(view.name); };
  if (view.rank != 2) {
    return invalid_argument(name() + ": expected a 2-D weight, got shape " + shape_string(view));
  }
  if ((expected_rows >= 0 && view.shape[0] != expected_rows) ||
      (expected_cols >= 0 && view.shape[1] != expected_cols)) {
    return invalid_argument(name() + ": shape " + shape_string(view) + " does not match the config ([" +
                            std::to_string(expected_rows) + ", " + std::to_string(expected_cols) + "])");
  }
  kernels::WeightRef w;
  w.data = view.data;
  w.rows = view.shape[0];
  w.cols = view.shape[1];
  switch (view.dtype) {
    case DType::kF32: w.type = kernels::WeightType::kF32; break;
    case DType::kBF16: w.type = kernels::WeightType::kBF16; break;
    case DType::kF8E4M3: w.type = kernels::WeightType::kF8E4M3; break;
    default:
      return unsupported(name() + ": weights of dtype " + std::string(dtype_name(view.dtype)) +
                         " are not supported (F32, BF16, F8_E4M3)");
  }
  if (view.data == nullptr ||
      view.data_bytes < static_cast<uint64_t>(w.rows * w.cols) * dtype_size(view.dtype)) {
    return corrupt(name() + ": data is smaller than its shape " + shape_string(view));
  }
  if (view.dtype == DType::kF8E4M3 && view.scale_format != ScaleFormat::kNone) {
    if (view.scales == nullptr || view.block_rows == 0 || view.block_cols == 0) {
      return corrupt(name() + ": FP8 weight without usable block scales");
    }
    w.scale_type = view.scale_format == ScaleFormat::kF32 ? kernels::BlockScaleType::kF32
                                                          : kernels::BlockScaleType::kUE8M0;
    w.scales = view.scales;
    w.block_rows = view.block_rows;
    w.block_cols = view.block_cols;
  }
  return w;
}

Result<kernels::WeightRef> load_weight(const WeightSource& source, const std::string& name,
                                       int64_t expected_rows, int64_t expected_cols) {
  MOESTREAM_ASSIGN_OR_RETURN(TensorView view, source.tensor(name));
  return weight_ref_from_view(view, expected_rows, expected_cols);
}

Result<std::vector<float>> load_vector(const WeightSource& source, const std::string& name,
                                       int64_t expected_size) {
  MOESTREAM_ASSIGN_OR_RETURN(TensorView view, source.tensor(name));
  if (view.numel() != expected_size || view.rank > 2 || (view.rank == 2 && view.shape[0] != 1 &&
                                                         view.shape[1] != 1)) {
    return invalid_argument(name + ": shape " + shape_string(view) + ", expected [" +
                            std::to_string(expected_size) + "]");
  }
  std::vector<float> out(static_cast<size_t>(expected_size));
  if (view.data_bytes < static_cast<uint64_t>(expected_size) * dtype_size(view.dtype)) {
    return corrupt(name + ": data is smaller than its shape");
  }
  switch (view.dtype) {
    case DType::kF32: {
      const float* src = static_cast<const float*>(view.data);
      for (int64_t i = 0; i < expected_size; ++i) out[i] = src[i];
      break;
    }
    case DType::kBF16: {
      const uint16_t* src = static_cast<const uint16_t*>(view.data);
      for (int64_t i = 0; i < expected_size; ++i) out[i] = bf16_to_f32(src[i]);
      break;
    }
    default:
      return unsupported(name + ": vectors of dtype " + std::string(dtype_name(view.dtype)) +
                         " are not supported (F32, BF16)");
  }
  return out;
}

}  // namespace moestream
