// Helpers of the convolution family (conv, conv_transpose, pools, einsum): element types with
// their compute type (bfloat16 included), widening/narrowing buffers, and the spatial geometry
// (ONNX's shape inference, from the SDK's plugin kit).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include <xhal/kit/conv_geometry.h>

#include "common.h"

namespace xhal_cpu {
namespace convk {

// bfloat16 storage: the upper half of a float32.
struct BF16 {
  uint16_t bits;
};
static_assert(sizeof(BF16) == 2, "BF16 must be two bytes");

inline float bf16_to_float(uint16_t b) { return bits_to_float(static_cast<uint32_t>(b) << 16); }

// Round to nearest even; NaN stays a (quiet) NaN.
inline uint16_t float_to_bf16(float f) {
  const uint32_t u = float_to_bits(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

// Element type facts: dtype id and the type arithmetic is done in (F).
template <class T>
struct Elem;
template <>
struct Elem<float> {
  static constexpr int32_t id = XHAL_DTYPE_FLOAT32;
  using F = float;
};
template <>
struct Elem<double> {
  static constexpr int32_t id = XHAL_DTYPE_FLOAT64;
  using F = double;
};
template <>
struct Elem<Half> {
  static constexpr int32_t id = XHAL_DTYPE_FLOAT16;
  using F = float;
};
template <>
struct Elem<BF16> {
  static constexpr int32_t id = XHAL_DTYPE_BFLOAT16;
  using F = float;
};
template <>
struct Elem<int8_t> {
  static constexpr int32_t id = XHAL_DTYPE_INT8;
  using F = int64_t;
};
template <>
struct Elem<uint8_t> {
  static constexpr int32_t id = XHAL_DTYPE_UINT8;
  using F = int64_t;
};
template <>
struct Elem<int32_t> {
  static constexpr int32_t id = XHAL_DTYPE_INT32;
  using F = int64_t;
};
template <>
struct Elem<int64_t> {
  static constexpr int32_t id = XHAL_DTYPE_INT64;
  using F = int64_t;
};

template <class T>
using F_of = typename Elem<T>::F;

template <class T, class F>
void widen_n(const T* src, F* dst, int64_t n) {
  if constexpr (std::is_same_v<T, Half> && std::is_same_v<F, float>) {
    half_to_float_n(src, dst, n);
  } else if constexpr (std::is_same_v<T, BF16>) {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<F>(bf16_to_float(src[i].bits));
  } else if constexpr (std::is_same_v<T, Half>) {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<F>(half_to_float(src[i].bits));
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<F>(src[i]);
  }
}

template <class F, class T>
void narrow_n(const F* src, T* dst, int64_t n) {
  if constexpr (std::is_same_v<T, Half> && std::is_same_v<F, float>) {
    float_to_half_n(src, dst, n);
  } else if constexpr (std::is_same_v<T, BF16>) {
    for (int64_t i = 0; i < n; ++i) dst[i].bits = float_to_bf16(static_cast<float>(src[i]));
  } else if constexpr (std::is_integral_v<T> && std::is_integral_v<F>) {
    using U = std::make_unsigned_t<T>;  // wrap around (two's complement)
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(static_cast<U>(src[i]));
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(src[i]);
  }
}

// A read-only view of a tensor's elements as F: the data itself when T is F, else a widened
// copy.
template <class T, class F = F_of<T>>
class Widened {
 public:
  Widened(const T* data, int64_t n) {
    if constexpr (std::is_same_v<T, F>) {
      ptr_ = data;
    } else {
      buf_.resize(static_cast<size_t>(n));
      widen_n(data, buf_.data(), n);
      ptr_ = buf_.data();
    }
  }
  const F* get() const { return ptr_; }

 private:
  std::vector<F> buf_;
  const F* ptr_ = nullptr;
};

// An output written as F: the tensor's memory when T is F, else a buffer narrowed by finish().
template <class T, class F = F_of<T>>
class Narrowed {
 public:
  Narrowed(T* data, int64_t n) : out_(data), n_(n) {
    if constexpr (std::is_same_v<T, F>) {
      ptr_ = data;
    } else {
      buf_.resize(static_cast<size_t>(n));
      ptr_ = buf_.data();
    }
  }
  F* get() { return ptr_; }
  void finish() {
    if constexpr (!std::is_same_v<T, F>) narrow_n(buf_.data(), out_, n_);
  }

 private:
  std::vector<F> buf_;
  T* out_;
  int64_t n_;
  F* ptr_ = nullptr;
};

// A per-thread scratch buffer of at least n elements, kept between calls so that large im2col
// buffers are neither reallocated nor zero-filled on every call. The previous contents are
// undefined; one buffer per element type and thread, so a caller must not nest two uses.
template <class F>
F* scratch(size_t n) {
  thread_local std::vector<F> buf;
  if (buf.size() < n) {
    std::vector<F>().swap(buf);  // free the old one first
    buf.resize(n);
  }
  return buf.data();
}

// Positions o in [0, count) with o * s + off in [0, limit): returns [lo, hi), possibly empty.
inline void valid_range(int64_t count, int64_t limit, int64_t s, int64_t off, int64_t* lo,
                        int64_t* hi) {
  int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t h = limit - off <= 0 ? 0 : (limit - off + s - 1) / s;
  if (h > count) h = count;
  if (l > h) l = h;
  *lo = l;
  *hi = h;
}

// The spatial geometry (pads, output sizes) is the SDK kit's (<xhal/kit/conv_geometry.h>), the
// same code the CUDA plugin runs; conv_gemm and the kernels keep the name Geom.
using Geom = xhal::kit::ConvGeometry;

// A kit result as this plugin's error: "<op>: <message>".
inline xhal_status_t kit_status(const char* op, xhal_status_t status, const std::string& error) {
  return status == XHAL_OK ? XHAL_OK : fail(status, "%s: %s", op, error.c_str());
}

}  // namespace convk
}  // namespace xhal_cpu
