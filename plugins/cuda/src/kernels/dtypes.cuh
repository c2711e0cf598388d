// Element types on the device: the C++ type of each xhal dtype, the type arithmetic runs in
// (float for float16/bfloat16: 16-bit storage, float32 accumulation), and conversions.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include <xhal/xhal_abi.h>

namespace xhal_cuda {

template <int32_t D>
struct DTypeOf;
template <> struct DTypeOf<XHAL_DTYPE_FLOAT32> { using type = float; };
template <> struct DTypeOf<XHAL_DTYPE_FLOAT64> { using type = double; };
template <> struct DTypeOf<XHAL_DTYPE_FLOAT16> { using type = __half; };
template <> struct DTypeOf<XHAL_DTYPE_BFLOAT16> { using type = __nv_bfloat16; };
template <> struct DTypeOf<XHAL_DTYPE_INT8> { using type = int8_t; };
template <> struct DTypeOf<XHAL_DTYPE_UINT8> { using type = uint8_t; };
template <> struct DTypeOf<XHAL_DTYPE_INT32> { using type = int32_t; };
template <> struct DTypeOf<XHAL_DTYPE_INT64> { using type = int64_t; };
template <> struct DTypeOf<XHAL_DTYPE_BOOL> { using type = bool; };

template <int32_t D>
using dtype_t = typename DTypeOf<D>::type;

// The xhal dtype of a C++ element type.
template <class T> constexpr int32_t dtype_of();
template <> constexpr int32_t dtype_of<float>() { return XHAL_DTYPE_FLOAT32; }
template <> constexpr int32_t dtype_of<double>() { return XHAL_DTYPE_FLOAT64; }
template <> constexpr int32_t dtype_of<__half>() { return XHAL_DTYPE_FLOAT16; }
template <> constexpr int32_t dtype_of<__nv_bfloat16>() { return XHAL_DTYPE_BFLOAT16; }
template <> constexpr int32_t dtype_of<int8_t>() { return XHAL_DTYPE_INT8; }
template <> constexpr int32_t dtype_of<uint8_t>() { return XHAL_DTYPE_UINT8; }
template <> constexpr int32_t dtype_of<int32_t>() { return XHAL_DTYPE_INT32; }
template <> constexpr int32_t dtype_of<int64_t>() { return XHAL_DTYPE_INT64; }
template <> constexpr int32_t dtype_of<bool>() { return XHAL_DTYPE_BOOL; }

// Arithmetic type: float for the 16-bit floats, the type itself otherwise.
template <class T> struct AccOf { using type = T; };
template <> struct AccOf<__half> { using type = float; };
template <> struct AccOf<__nv_bfloat16> { using type = float; };
template <class T>
using acc_t = typename AccOf<T>::type;

template <class T>
constexpr bool is_floating = std::is_floating_point<T>::value || std::is_same<T, __half>::value ||
                             std::is_same<T, __nv_bfloat16>::value;

// Value conversions that also work for the 16-bit floats (round to nearest even).
template <class To, class From>
__host__ __device__ __forceinline__ To convert(From v) {
  if constexpr (std::is_same<To, From>::value) {
    return v;
  } else if constexpr (std::is_same<From, __half>::value || std::is_same<From, __nv_bfloat16>::value) {
    return convert<To>(static_cast<float>(v));
  } else if constexpr (std::is_same<To, __half>::value) {
    return __float2half_rn(static_cast<float>(v));
  } else if constexpr (std::is_same<To, __nv_bfloat16>::value) {
    return __float2bfloat16_rn(static_cast<float>(v));
  } else {
    return static_cast<To>(v);
  }
}

// Calls f(T{}) with the C++ type of `dtype`; returns false for a dtype this plugin lacks.
template <class F>
bool visit_dtype(int32_t dtype, F&& f) {
  switch (dtype) {
    case XHAL_DTYPE_FLOAT32: f(float{}); return true;
    case XHAL_DTYPE_FLOAT64: f(double{}); return true;
    case XHAL_DTYPE_FLOAT16: f(__half{}); return true;
    case XHAL_DTYPE_BFLOAT16: f(__nv_bfloat16{}); return true;
    case XHAL_DTYPE_INT8: f(int8_t{}); return true;
    case XHAL_DTYPE_UINT8: f(uint8_t{}); return true;
    case XHAL_DTYPE_INT32: f(int32_t{}); return true;
    case XHAL_DTYPE_INT64: f(int64_t{}); return true;
    case XHAL_DTYPE_BOOL: f(bool{}); return true;
    default: return false;
  }
}

}  // namespace xhal_cuda
