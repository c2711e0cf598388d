// clip: Y = min(max(X, min), max) for float32/float64/float16/bfloat16/int8/uint8/int32/int64,
// strided X, on the elementwise engine. min and max are optional scalar device tensors (rank 0
// or one element, any strides): the kernel reads them on the device (a broadcast load every
// thread shares through the cache), so nothing synchronises with the stream.
//
// Semantics as the CPU plugin (plugins/cpu/kernels/unary_clip.cpp): an absent bound is -Inf /
// +Inf for floats and the type's lowest / highest value for integers; NaN in X fails both
// comparisons and passes through; min > max gives max everywhere. float16/bfloat16 compare in
// float32 (exact).
// Not done: tensor-valued (non-scalar) bounds, which the spec does not admit.
#include <limits>
#include <type_traits>

#include "dtypes.cuh"
#include "elementwise.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

template <class T>
struct ClipOp {
  using C = acc_t<T>;
  const T* lo;  // NULL: lo_default
  const T* hi;
  C lo_default, hi_default;

  __device__ C operator()(C x) const {
    const C l = lo != nullptr ? ew::load(lo) : lo_default;
    const C h = hi != nullptr ? ew::load(hi) : hi_default;
    const C y = x < l ? l : x;
    return y > h ? h : y;
  }
};

// Checks an optional bound and returns its element pointer (NULL when absent).
template <class T>
xhal_status_t bound(const Call& call, const char* role, const xhal_tensor_t* t, const T** out) {
  *out = nullptr;
  if (t == nullptr) return XHAL_OK;
  XHAL_CUDA_TRY(check_tensor(call, role, t, dtype_of<T>()));
  const Shape s = shape_of(t);
  if (s.numel() != 1)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "clip: %s has shape %s; it must be a scalar (rank 0 or one element)", role,
                to_string(s).c_str());
  *out = data_as<const T>(t);
  return XHAL_OK;
}

template <class T>
xhal_status_t clip_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                         const xhal_tensor_t* min, const xhal_tensor_t* max,
                         const xhal_clip_v1_attrs_t* /*attrs: none*/, xhal_tensor_t* Y) noexcept {
  return guarded("clip", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("clip", ctx, &call));
    using C = acc_t<T>;
    using L = std::numeric_limits<C>;
    ClipOp<T> op;
    op.lo_default = L::has_infinity ? -L::infinity() : L::lowest();
    op.hi_default = L::has_infinity ? L::infinity() : L::max();
    XHAL_CUDA_TRY(bound<T>(call, "input min", min, &op.lo));
    XHAL_CUDA_TRY(bound<T>(call, "input max", max, &op.hi));
    return ew::unary<T, T>(call, op, X, Y);
  });
}

template <class... Ts>
xhal_status_t register_types(const xhal_host_api_t* h, xhal_registry_t r) {
  xhal_status_t st = XHAL_OK;
  ((st = st != XHAL_OK ? st
                       : xhal_register_clip_v1(h, r, clip_entry<Ts>, dtype_of<Ts>(),
                                               XHAL_KERNEL_FLAG_STRIDED_INPUTS, "cuda.clip")),
   ...);
  return st;
}

xhal_status_t register_clip_family(const xhal_host_api_t* h, xhal_registry_t r) {
  return register_types<float, double, __half, __nv_bfloat16, int8_t, uint8_t, int32_t, int64_t>(
      h, r);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(clip, register_clip_family);

}  // namespace xhal_cuda
