// shape and size for every dtype of their specs: they read only the input's dimensions and
// write int64 values (shape: the dimensions start..end, clamped as in ONNX Shape-21; size: the
// element count as a scalar).
#include <algorithm>

#include "kernels.h"
#include "movement.h"

namespace xhal_cpu {
namespace {

xhal_status_t shape_impl(int32_t dt, const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                         const xhal_shape_v1_attrs_t* given, xhal_tensor_t* out) {
  constexpr const char* kOp = "shape";
  XHAL_CPU_TRY(check_context(kOp, ctx));
  XHAL_CPU_TRY(check_tensor(kOp, "input data", data, dt));
  XHAL_CPU_TRY(check_tensor(kOp, "output shape", out, XHAL_DTYPE_INT64));
  const xhal_shape_v1_attrs_t at = read_attrs(given, xhal_shape_v1_attrs_init);
  const Dims dx = dims_of(data), dy = dims_of(out);
  const int64_t rank = dx.rank;
  int64_t s = at.start < 0 ? at.start + rank : at.start;
  int64_t e = at.end < 0 ? at.end + rank : at.end;
  s = std::clamp<int64_t>(s, 0, rank);
  e = std::clamp<int64_t>(e, s, rank);
  if (dy.rank != 1 || dy[0] != e - s)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "shape: output has shape %s; expected [%lld]",
                to_string(dy).c_str(), static_cast<long long>(e - s));
  int64_t* y = data_as<int64_t>(out);
  for (int64_t i = s; i < e; ++i) y[i - s] = dx[static_cast<int>(i)];
  return XHAL_OK;
}

template <int32_t DT>
xhal_status_t shape_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                           const xhal_shape_v1_attrs_t* attrs, xhal_tensor_t* out) {
  return guarded("shape", [&] { return shape_impl(DT, ctx, data, attrs, out); });
}

xhal_status_t size_impl(int32_t dt, const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                        xhal_tensor_t* out) {
  constexpr const char* kOp = "size";
  XHAL_CPU_TRY(check_context(kOp, ctx));
  XHAL_CPU_TRY(check_tensor(kOp, "input data", data, dt));
  XHAL_CPU_TRY(check_tensor(kOp, "output size", out, XHAL_DTYPE_INT64));
  if (out->ndim != 0)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "size: output has shape %s; expected a scalar",
                to_string(dims_of(out)).c_str());
  *data_as<int64_t>(out) = numel(data);
  return XHAL_OK;
}

template <int32_t DT>
xhal_status_t size_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                          const xhal_size_v1_attrs_t* /*attrs*/, xhal_tensor_t* out) {
  return guarded("size", [&] { return size_impl(DT, ctx, data, out); });
}

}  // namespace

xhal_status_t register_shape_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  auto shape = [&](xhal_shape_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_shape_v1(h, r, fn, dt, 0, "xhal.cpu.shape");
  };
  auto size = [&](xhal_size_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_size_v1(h, r, fn, dt, 0, "xhal.cpu.size");
  };
  XHAL_CPU_REGISTER_MOVEMENT_DTYPES(shape, shape_kernel);
  XHAL_CPU_REGISTER_MOVEMENT_DTYPES(size, size_kernel);
  return XHAL_OK;
}

}  // namespace xhal_cpu
