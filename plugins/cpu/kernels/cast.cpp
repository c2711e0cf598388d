// cast (every pair of float32/float64/float16/bfloat16/int8/uint8/int32/int64/bool) and
// identity (a copy). Conversion rules: see op_specs/ops/cast.yaml.
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels.h"
#include "unary_common.h"

namespace xhal_cpu {
namespace {

// An element as a C++ arithmetic value: half types widen (exactly) to float.
template <class T>
inline auto load(T x) {
  if constexpr (std::is_same_v<T, Half>)
    return half_to_float(x.bits);
  else if constexpr (std::is_same_v<T, BFloat16>)
    return bfloat16_to_float(x.bits);
  else
    return x;
}

// A value converted to the element type To.
template <class To, class V>
inline To store(V v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != V(0);  // NaN != 0: true
  } else if constexpr (std::is_same_v<To, Half>) {
    return Half{float_to_half(static_cast<float>(v))};
  } else if constexpr (std::is_same_v<To, BFloat16>) {
    return BFloat16{float_to_bfloat16(static_cast<float>(v))};
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<V>) {
    // Truncate toward zero into int64, then keep the low bits like an integer cast. NaN, Inf and
    // values beyond int64 are undefined by the spec; they become 0 here rather than C++ UB.
    const bool in_range = v >= V(-9223372036854775808.0) && v < V(9223372036854775808.0);
    return static_cast<To>(in_range ? static_cast<int64_t>(v) : int64_t{0});
  } else {
    return static_cast<To>(v);  // integer wrap-around, integer to float, float to float, bool
  }
}

template <class From, class To>
XHAL_CPU_SIMD_CLONES void cast_block(const From* x, To* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = store<To>(load(x[i]));
}

template <class From, class To>
xhal_status_t cast_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                         const xhal_cast_v1_attrs_t* attrs, xhal_tensor_t* Y) {
  return guarded("cast", [&] {
    XHAL_CPU_TRY(check_context("cast", ctx));
    XHAL_CPU_TRY(check_tensor("cast", "input X", X, DType<From>::id));
    XHAL_CPU_TRY(check_tensor("cast", "output Y", Y, DType<To>::id));
    if (attrs != nullptr && attrs->struct_size >= sizeof(xhal_cast_v1_attrs_t) &&
        attrs->to != DType<To>::id)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "cast: attribute to is %s; output Y is %s",
                  dtype_name(attrs->to), DType<To>::name);
    const Dims dx = dims_of(X), dy = dims_of(Y);
    if (dx != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "cast: output Y has shape %s; X has shape %s",
                  to_string(dy).c_str(), to_string(dx).c_str());
    const From* x = data_as<const From>(X);
    To* y = data_as<To>(Y);
    if constexpr (std::is_same_v<From, To>) {
      if (x != y && dx.numel() > 0) std::memcpy(y, x, sizeof(From) * dx.numel());
    } else {
      parallel_for(dx.numel(), kCheapGrain, [&](int64_t begin, int64_t end) {
        cast_block<From, To>(x + begin, y + begin, end - begin);
      });
    }
    return XHAL_OK;
  });
}

template <class T>
xhal_status_t identity_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                             const xhal_identity_v1_attrs_t* /*attrs: none*/, xhal_tensor_t* Y) {
  return guarded("identity", [&] {
    XHAL_CPU_TRY(check_context("identity", ctx));
    XHAL_CPU_TRY(check_tensor("identity", "input X", X, DType<T>::id));
    XHAL_CPU_TRY(check_tensor("identity", "output Y", Y, DType<T>::id));
    const Dims dx = dims_of(X), dy = dims_of(Y);
    if (dx != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "identity: output Y has shape %s; X has shape %s",
                  to_string(dy).c_str(), to_string(dx).c_str());
    const char* x = data_as<const char>(X);
    char* y = data_as<char>(Y);
    const int64_t bytes = static_cast<int64_t>(sizeof(T)) * dx.numel();
    if (x != y && bytes > 0) {
      parallel_for(bytes, kCheapGrain * 8, [&](int64_t begin, int64_t end) {
        std::memcpy(y + begin, x + begin, static_cast<size_t>(end - begin));
      });
    }
    return XHAL_OK;
  });
}

template <class From>
xhal_status_t register_from(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t f = DType<From>::id;
  XHAL_CPU_TRY(xhal_register_cast_v1(h, r, cast_entry<From, float>, f, XHAL_DTYPE_FLOAT32, 0,
                                     "xhal.cpu.cast"));
  XHAL_CPU_TRY(xhal_register_cast_v1(h, r, cast_entry<From, double>, f, XHAL_DTYPE_FLOAT64, 0,
                                     "xhal.cpu.cast"));
  XHAL_CPU_TRY(xhal_register_cast_v1(h, r, cast_entry<From, Half>, f, XHAL_DTYPE_FLOAT16, 0,
                                     "xhal.cpu.cast"));
  XHAL_CPU_TRY(xhal_register_cast_v1(h, r, cast_entry<From, BFloat16>, f, XHAL_DTYPE_BFLOAT16, 0,
                                     "xhal.cpu.cast"));
  XHAL_CPU_TRY(xhal_register_cast_v1(h, r, cast_entry<From, int8_t>, f, XHAL_DTYPE_INT8, 0,
                                     "xhal.cpu.cast"));
  XHAL_CPU_TRY(xhal_register_cast_v1(h, r, cast_entry<From, uint8_t>, f, XHAL_DTYPE_UINT8, 0,
                                     "xhal.cpu.cast"));
  XHAL_CPU_TRY(xhal_register_cast_v1(h, r, cast_entry<From, int32_t>, f, XHAL_DTYPE_INT32, 0,
                                     "xhal.cpu.cast"));
  XHAL_CPU_TRY(xhal_register_cast_v1(h, r, cast_entry<From, int64_t>, f, XHAL_DTYPE_INT64, 0,
                                     "xhal.cpu.cast"));
  XHAL_CPU_TRY(xhal_register_cast_v1(h, r, cast_entry<From, bool>, f, XHAL_DTYPE_BOOL, 0,
                                     "xhal.cpu.cast"));
  XHAL_CPU_TRY(
      xhal_register_identity_v1(h, r, identity_entry<From>, f, 0, "xhal.cpu.identity"));
  return XHAL_OK;
}

}  // namespace

xhal_status_t register_cast_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_from<float>(h, r));
  XHAL_CPU_TRY(register_from<double>(h, r));
  XHAL_CPU_TRY(register_from<Half>(h, r));
  XHAL_CPU_TRY(register_from<BFloat16>(h, r));
  XHAL_CPU_TRY(register_from<int8_t>(h, r));
  XHAL_CPU_TRY(register_from<uint8_t>(h, r));
  XHAL_CPU_TRY(register_from<int32_t>(h, r));
  XHAL_CPU_TRY(register_from<int64_t>(h, r));
  XHAL_CPU_TRY(register_from<bool>(h, r));
  return XHAL_OK;
}

}  // namespace xhal_cpu
