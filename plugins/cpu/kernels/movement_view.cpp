// flatten, squeeze and unsqueeze for every dtype of their specs: each only renames the
// dimensions of the same row-major bytes, so the kernel checks the output shape against the
// op's rule and copies the bytes (threaded when large; nothing when in place).
#include "kernels.h"
#include "movement.h"

namespace xhal_cpu {
namespace {

xhal_status_t finish(const char* op, const xhal_tensor_t* in, xhal_tensor_t* out, int32_t dt,
                     const Dims& expect) {
  const Dims dy = dims_of(out);
  if (expect != dy)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output has shape %s; input %s gives %s", op,
                to_string(dy).c_str(), to_string(dims_of(in)).c_str(),
                to_string(expect).c_str());
  copy_all(data_as<char>(out), data_as<const char>(in), dy.numel() * xhal_dtype_size(dt));
  return XHAL_OK;
}

xhal_status_t axes_list(const char* op, const xhal_tensor_t* axes, const int64_t** v,
                        int64_t* n) {
  XHAL_CPU_TRY(check_tensor(op, "input axes", axes, XHAL_DTYPE_INT64));
  if (axes->ndim != 1)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: axes must be 1-D, got %s", op,
                to_string(dims_of(axes)).c_str());
  *v = data_as<const int64_t>(axes);
  *n = numel(axes);
  return XHAL_OK;
}

// ---- flatten --------------------------------------------------------------------------------

xhal_status_t flatten_impl(int32_t dt, const xhal_kernel_context_t* ctx, const xhal_tensor_t* in,
                           const xhal_flatten_v1_attrs_t* given, xhal_tensor_t* out) {
  constexpr const char* kOp = "flatten";
  XHAL_CPU_TRY(check_context(kOp, ctx));
  XHAL_CPU_TRY(check_tensor(kOp, "input input", in, dt));
  XHAL_CPU_TRY(check_tensor(kOp, "output output", out, dt));
  const xhal_flatten_v1_attrs_t at = read_attrs(given, xhal_flatten_v1_attrs_init);
  const Dims dx = dims_of(in);
  if (at.axis < -dx.rank || at.axis > dx.rank)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "flatten: axis %lld is out of range [%d, %d]",
                static_cast<long long>(at.axis), -dx.rank, dx.rank);
  const int a = static_cast<int>(at.axis < 0 ? at.axis + dx.rank : at.axis);
  Dims expect;
  expect.push_back(product(dx, 0, a));
  expect.push_back(product(dx, a, dx.rank));
  return finish(kOp, in, out, dt, expect);
}

template <int32_t DT>
xhal_status_t flatten_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* in,
                             const xhal_flatten_v1_attrs_t* attrs, xhal_tensor_t* out) {
  return guarded("flatten", [&] { return flatten_impl(DT, ctx, in, attrs, out); });
}

// ---- squeeze --------------------------------------------------------------------------------

xhal_status_t squeeze_impl(int32_t dt, const xhal_kernel_context_t* ctx, const xhal_tensor_t* in,
                           const xhal_tensor_t* axes, xhal_tensor_t* out) {
  constexpr const char* kOp = "squeeze";
  XHAL_CPU_TRY(check_context(kOp, ctx));
  XHAL_CPU_TRY(check_tensor(kOp, "input data", in, dt));
  XHAL_CPU_TRY(check_tensor(kOp, "output squeezed", out, dt));
  const Dims dx = dims_of(in);
  bool drop[kMaxRank] = {};
  int64_t n = 0;
  const int64_t* list = nullptr;
  if (axes != nullptr) XHAL_CPU_TRY(axes_list(kOp, axes, &list, &n));
  if (n == 0) {
    for (int i = 0; i < dx.rank; ++i) drop[i] = dx[i] == 1;
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const int a = normalize_axis(list[i], dx.rank);
      if (a < 0 || drop[a] || dx[a] != 1)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "squeeze: axis %lld of data %s is out of range, repeated or not of size 1",
                    static_cast<long long>(list[i]), to_string(dx).c_str());
      drop[a] = true;
    }
  }
  Dims expect;
  for (int i = 0; i < dx.rank; ++i)
    if (!drop[i]) expect.push_back(dx[i]);
  return finish(kOp, in, out, dt, expect);
}

template <int32_t DT>
xhal_status_t squeeze_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* in,
                             const xhal_tensor_t* axes, const xhal_squeeze_v1_attrs_t* /*attrs*/,
                             xhal_tensor_t* out) {
  return guarded("squeeze", [&] { return squeeze_impl(DT, ctx, in, axes, out); });
}

// ---- unsqueeze ------------------------------------------------------------------------------

xhal_status_t unsqueeze_impl(int32_t dt, const xhal_kernel_context_t* ctx,
                             const xhal_tensor_t* in, const xhal_tensor_t* axes,
                             xhal_tensor_t* out) {
  constexpr const char* kOp = "unsqueeze";
  XHAL_CPU_TRY(check_context(kOp, ctx));
  XHAL_CPU_TRY(check_tensor(kOp, "input data", in, dt));
  XHAL_CPU_TRY(check_tensor(kOp, "output expanded", out, dt));
  const Dims dx = dims_of(in);
  int64_t n = 0;
  const int64_t* list = nullptr;
  XHAL_CPU_TRY(axes_list(kOp, axes, &list, &n));
  if (dx.rank + n > kMaxRank)
    return fail(XHAL_ERROR_UNSUPPORTED, "unsqueeze: output rank %lld exceeds %d",
                static_cast<long long>(dx.rank + n), kMaxRank);
  const int rank = dx.rank + static_cast<int>(n);
  bool add[kMaxRank] = {};
  for (int64_t i = 0; i < n; ++i) {
    const int a = normalize_axis(list[i], rank);
    if (a < 0 || add[a])
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "unsqueeze: axis %lld is out of range or repeated for output rank %d",
                  static_cast<long long>(list[i]), rank);
    add[a] = true;
  }
  Dims expect;
  for (int i = 0, j = 0; i < rank; ++i) expect.push_back(add[i] ? 1 : dx[j++]);
  return finish(kOp, in, out, dt, expect);
}

template <int32_t DT>
xhal_status_t unsqueeze_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* in,
                               const xhal_tensor_t* axes,
                               const xhal_unsqueeze_v1_attrs_t* /*attrs*/, xhal_tensor_t* out) {
  return guarded("unsqueeze", [&] { return unsqueeze_impl(DT, ctx, in, axes, out); });
}

}  // namespace

xhal_status_t register_movement_view_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  auto flatten = [&](xhal_flatten_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_flatten_v1(h, r, fn, dt, 0, "xhal.cpu.flatten");
  };
  auto squeeze = [&](xhal_squeeze_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_squeeze_v1(h, r, fn, dt, 0, "xhal.cpu.squeeze");
  };
  auto unsqueeze = [&](xhal_unsqueeze_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_unsqueeze_v1(h, r, fn, dt, 0, "xhal.cpu.unsqueeze");
  };
  XHAL_CPU_REGISTER_MOVEMENT_DTYPES(flatten, flatten_kernel);
  XHAL_CPU_REGISTER_MOVEMENT_DTYPES(squeeze, squeeze_kernel);
  XHAL_CPU_REGISTER_MOVEMENT_DTYPES(unsqueeze, unsqueeze_kernel);
  return XHAL_OK;
}

}  // namespace xhal_cpu
