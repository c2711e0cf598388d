// Helpers of the normalisation kernels (norm_*.cpp): widening loads, narrowing stores, and the
// mean / variance of one row, summed in float64 with eight partial sums (vectorises).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "common.h"

namespace xhal_cpu {
namespace norm {
namespace {  // internal linkage: each kernel file gets its own (SIMD-cloned) copies

// The type rows are normalised in: float for float32/float16/bfloat16, double for float64.
template <class T>
using calc_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <class T, class F>
inline void load_n(const T* src, F* dst, int64_t n) {
  if constexpr (std::is_same_v<T, Half>) {
    half_to_float_n(src, dst, n);
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    for (int64_t i = 0; i < n; ++i) dst[i] = bfloat16_to_float(src[i].bits);
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<F>(src[i]);
  }
}

template <class T, class F>
inline void store_n(const F* src, T* dst, int64_t n) {
  if constexpr (std::is_same_v<T, Half>) {
    float_to_half_n(src, dst, n);
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    for (int64_t i = 0; i < n; ++i) dst[i].bits = float_to_bfloat16(src[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(src[i]);
  }
}

struct Moments {
  double mean;
  double rstd;  // 1 / sqrt(var + epsilon)
};

// Two passes over a (cache-resident) row: the mean, then the mean of squared deviations.
template <class F>
XHAL_CPU_SIMD_CLONES Moments row_moments(const F* x, int64_t n, double epsilon) {
  double acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] += static_cast<double>(x[i + k]);
  double sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) sum += static_cast<double>(x[i]);
  const double mean = sum / static_cast<double>(n);
  double sq[8] = {};
  i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) {
      const double d = static_cast<double>(x[i + k]) - mean;
      sq[k] += d * d;
    }
  double ss = ((sq[0] + sq[1]) + (sq[2] + sq[3])) + ((sq[4] + sq[5]) + (sq[6] + sq[7]));
  for (; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - mean;
    ss += d * d;
  }
  const double var = ss / static_cast<double>(n);
  return {mean, 1.0 / std::sqrt(var + epsilon)};
}

// y[j] = ((x[j] - mean) * rstd) * s[j] + b[j]: the reference's order of operations, so that an
// extreme scale overflows exactly where the reference's does.
template <class F>
XHAL_CPU_SIMD_CLONES void affine_row(const F* x, int64_t n, F mean, F rstd, const F* s,
                                     const F* b, F* y) {
  for (int64_t j = 0; j < n; ++j) y[j] = ((x[j] - mean) * rstd) * s[j] + b[j];
}

// The same with one scale and bias for the whole row.
template <class F>
XHAL_CPU_SIMD_CLONES void affine_row_scalar(const F* x, int64_t n, F mean, F rstd, F s, F b,
                                            F* y) {
  for (int64_t j = 0; j < n; ++j) y[j] = ((x[j] - mean) * rstd) * s + b;
}

}  // namespace
}  // namespace norm
}  // namespace xhal_cpu
