// Compile-time facts about the element types the kernels are instantiated for.
#pragma once

#include <cstdint>
#include <type_traits>

#include <xhal/xhal_abi.h>

#include "half.h"

namespace xhal_cpu {

template <class T>
struct DType;
template <>
struct DType<float> {
  static constexpr int32_t id = XHAL_DTYPE_FLOAT32;
  static constexpr const char* name = "float32";
};
template <>
struct DType<double> {
  static constexpr int32_t id = XHAL_DTYPE_FLOAT64;
  static constexpr const char* name = "float64";
};
template <>
struct DType<Half> {
  static constexpr int32_t id = XHAL_DTYPE_FLOAT16;
  static constexpr const char* name = "float16";
};
template <>
struct DType<int32_t> {
  static constexpr int32_t id = XHAL_DTYPE_INT32;
  static constexpr const char* name = "int32";
};
template <>
struct DType<int64_t> {
  static constexpr int32_t id = XHAL_DTYPE_INT64;
  static constexpr const char* name = "int64";
};
template <>
struct DType<BFloat16> {
  static constexpr int32_t id = XHAL_DTYPE_BFLOAT16;
  static constexpr const char* name = "bfloat16";
};
template <>
struct DType<int8_t> {
  static constexpr int32_t id = XHAL_DTYPE_INT8;
  static constexpr const char* name = "int8";
};
template <>
struct DType<uint8_t> {
  static constexpr int32_t id = XHAL_DTYPE_UINT8;
  static constexpr const char* name = "uint8";
};
template <>
struct DType<bool> {
  static constexpr int32_t id = XHAL_DTYPE_BOOL;
  static constexpr const char* name = "bool";
};

// The type arithmetic is done in: float16 computes in float32, everything else natively.
template <class T>
struct ComputeType {
  using type = T;
};
template <>
struct ComputeType<Half> {
  using type = float;
};
template <>
struct ComputeType<BFloat16> {
  using type = float;
};
template <class T>
using compute_t = typename ComputeType<T>::type;

// Integer arithmetic goes through the unsigned type of the same width so overflow wraps
// (two's complement) instead of being undefined.
template <class T>
inline T wrap_add(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
}
template <class T>
inline T wrap_sub(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
}
template <class T>
inline T wrap_mul(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
}

// Name of any xhal dtype, for messages.
const char* dtype_name(int32_t dtype);

}  // namespace xhal_cpu
