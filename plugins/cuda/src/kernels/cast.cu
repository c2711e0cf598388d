// cast (every (from, to) pair of float32/float64/float16/bfloat16/int8/uint8/int32/int64/bool,
// 81 registrations) and identity (every dtype), strided inputs.
//
// How: a cast between different dtypes runs on the elementwise engine with one conversion
// functor per target; a cast to the same dtype and identity are strided copies (copy_strided,
// support.h), which need no per-dtype kernel.
// Conversions match the CPU plugin (plugins/cpu/kernels/cast.cpp) and op_specs/ops/cast.yaml:
// float16/bfloat16 widen exactly to float32 first; float to float rounds to nearest even
// (float64 to float16/bfloat16 through float32); float to integer truncates toward zero into
// int64 and keeps the low bits (-1.5 to uint8 is 255), NaN, +-Inf and values beyond int64
// give 0; integer to integer wraps; integer to float rounds to nearest even (int64 to
// float16/bfloat16 through float32); any type to bool is `x != 0` (NaN true, -0.0 false);
// bool gives 0 or 1.
// Not done: saturate / round_mode (float8 only, not dtypes of this plugin).
#include <cstdint>
#include <type_traits>

#include "dtypes.cuh"
#include "elementwise.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

template <class To>
struct CastOp {
  template <class V>
  __device__ To operator()(V v) const {
    if constexpr (std::is_same<To, bool>::value) {
      return v != V(0);
    } else if constexpr (std::is_same<To, __half>::value) {
      return __float2half_rn(static_cast<float>(v));
    } else if constexpr (std::is_same<To, __nv_bfloat16>::value) {
      return __float2bfloat16_rn(static_cast<float>(v));
    } else if constexpr (std::is_integral<To>::value && std::is_floating_point<V>::value) {
      const bool in_range = v >= V(-9223372036854775808.0) && v < V(9223372036854775808.0);
      return static_cast<To>(in_range ? static_cast<int64_t>(v) : int64_t{0});
    } else {
      return static_cast<To>(v);  // integer wrap, integer to float, float to float, bool
    }
  }
};

// Y (same shape as X) = X element for element; X may be strided.
xhal_status_t copy(const Call& call, const xhal_tensor_t* X, xhal_tensor_t* Y) {
  const Shape s = shape_of(X);
  int64_t sx[kMaxRank], sy[kMaxRank];
  strides_of(X, sx);
  strides_of(Y, sy);
  return copy_strided(call, s, data_as<const char>(X), sx, data_as<char>(Y), sy,
                      xhal_dtype_size(xhal_dtype_from_dl(X->dtype)));
}

template <class From, class To>
xhal_status_t cast_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                         const xhal_cast_v1_attrs_t* attrs, xhal_tensor_t* Y) noexcept {
  return guarded("cast", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("cast", ctx, &call));
    constexpr int32_t from = dtype_of<From>(), to = dtype_of<To>();
    if (attrs != nullptr && attrs->struct_size >= sizeof(xhal_cast_v1_attrs_t) && attrs->to != to)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "cast: attribute to is dtype %d but output Y has dtype %d (kernel %d -> %d)",
                  static_cast<int>(attrs->to), static_cast<int>(to), static_cast<int>(from),
                  static_cast<int>(to));
    if constexpr (std::is_same<From, To>::value) {
      XHAL_CUDA_TRY(check_tensor(call, "input X", X, from));
      XHAL_CUDA_TRY(check_tensor(call, "output Y", Y, to));
      XHAL_CUDA_TRY(check_shape(call, "output Y", Y, shape_of(X)));
      return copy(call, X, Y);
    } else {
      return ew::unary<From, To>(call, CastOp<To>{}, X, Y);
    }
  });
}

template <class T>
xhal_status_t identity_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                             const xhal_identity_v1_attrs_t* /*attrs: none*/,
                             xhal_tensor_t* Y) noexcept {
  return guarded("identity", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("identity", ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input X", X, dtype_of<T>()));
    XHAL_CUDA_TRY(check_tensor(call, "output Y", Y, dtype_of<T>()));
    XHAL_CUDA_TRY(check_shape(call, "output Y", Y, shape_of(X)));
    if (data_as<const char>(X) == data_as<char>(Y) && is_compact(X) && is_compact(Y))
      return XHAL_OK;  // the host passed the same buffer
    return copy(call, X, Y);
  });
}

constexpr uint32_t kFlags = XHAL_KERNEL_FLAG_STRIDED_INPUTS;

template <class From, class... Tos>
xhal_status_t register_from(const xhal_host_api_t* h, xhal_registry_t r) {
  xhal_status_t st = XHAL_OK;
  ((st = st != XHAL_OK ? st
                       : xhal_register_cast_v1(h, r, cast_entry<From, Tos>, dtype_of<From>(),
                                               dtype_of<Tos>(), kFlags, "cuda.cast")),
   ...);
  XHAL_CUDA_TRY(st);
  return xhal_register_identity_v1(h, r, identity_entry<From>, dtype_of<From>(), kFlags,
                                   "cuda.identity");
}

template <class... Ts>
xhal_status_t register_all(const xhal_host_api_t* h, xhal_registry_t r) {
  xhal_status_t st = XHAL_OK;
  ((st = st != XHAL_OK ? st : register_from<Ts, Ts...>(h, r)), ...);
  return st;
}

xhal_status_t register_cast_family(const xhal_host_api_t* h, xhal_registry_t r) {
  return register_all<float, double, __half, __nv_bfloat16, int8_t, uint8_t, int32_t, int64_t,
                      bool>(h, r);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(cast, register_cast_family);

}  // namespace xhal_cuda
