// softmax and log_softmax along one axis: Y = exp(X - max) / sum(exp(X - max)), and
// Y = (X - max) - log(sum(exp(X - max))), literally, so a row holding NaN or only -Inf gives NaN
// as the numpy reference does. float32, float16 and bfloat16 compute in float32 with the sum
// accumulated in float64; float64 computes in float64.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "../config.h"
#include "common.h"
#include "exp_f32.h"
#include "kernels.h"
#include "vec_math.h"

namespace xhal_cpu {
namespace {


// When the axis is not the last one, up to kInnerBlock columns of the trailing dims are done
// together, as a block of at most kBlockElems elements (at least one column) that stays in
// cache: the output itself, or a float32 scratch copy for float16.
constexpr int64_t kInnerBlock = 256;
constexpr int64_t kBlockElems = 64 * 1024;

inline float exp_of(float x) { return exp_f32(x); }  // vectorisable, <= 2 ulp
inline double exp_of(double x) { return std::exp(x); }

// Largest of n >= 1 values over 16 interleaved lanes (vectorises); a NaN may or may not win,
// but it reaches the sum of exponentials either way, so the row still becomes NaN.
template <class F>
inline F row_max(const F* x, int64_t n) {
  F lanes[16];
  for (int k = 0; k < 16; ++k) lanes[k] = x[0];
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
#pragma GCC unroll 1  // keep the lane loop for the loop vectoriser (it if-converts the select)
    for (int k = 0; k < 16; ++k) lanes[k] = x[i + k] > lanes[k] ? x[i + k] : lanes[k];
  F m = lanes[0];
  for (int k = 1; k < 16; ++k) m = lanes[k] > m ? lanes[k] : m;
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// Sum of g(x[i]) for i < n. float: blocks of 256 summed in float32 over 16 lanes (full vector
// width), the lanes and blocks added in float64; double: eight float64 partial sums.
template <class F, class G>
inline double sum_of(const F* x, int64_t n, G g) {
  double total = 0.0;
  int64_t i = 0;
  if constexpr (std::is_same_v<F, float>) {
    constexpr int64_t kBlock = 256;
    for (; i + kBlock <= n; i += kBlock) {
      float acc[16] = {};
      for (int64_t b = 0; b < kBlock; b += 16)
#pragma GCC unroll 1  // the loop vectoriser, not SLP, handles g's selects (exp)
        for (int k = 0; k < 16; ++k) acc[k] += g(x[i + b + k]);
      double lanes[4] = {};
      for (int k = 0; k < 16; ++k) lanes[k & 3] += static_cast<double>(acc[k]);
      total += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    }
  } else {
    double acc[8] = {};
    for (; i + 8 <= n; i += 8)
#pragma GCC unroll 1
      for (int k = 0; k < 8; ++k) acc[k] += g(x[i + k]);
    total = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  }
  for (; i < n; ++i) total += static_cast<double>(g(x[i]));
  return total;
}

// One contiguous row of length n from x to y (which may be x itself), float or double.
template <bool kLog, class F>
XHAL_CPU_SIMD_CLONES void softmax_row(const F* x, F* y, int64_t n) {
  const F m = row_max(x, n);
  if constexpr (kLog) {
    const double sum = sum_of(x, n, [m](F v) { return exp_of(v - m); });
    const F ls = static_cast<F>(std::log(sum));
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - ls;
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = exp_of(x[i] - m);
    const double sum = sum_of(y, n, [](F v) { return v; });
    const F inv = static_cast<F>(1.0 / sum);
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
  }
}

// float rows: the hand-vectorised loops of vec_math (AVX-512 / AVX2 / baseline, chosen once).
template <bool kLog>
void softmax_row(const float* x, float* y, int64_t n) {
  if constexpr (kLog)
    vec::log_softmax_row(x, y, n);
  else
    vec::softmax_row(x, y, n);
}

// Columns j in [0, w) of an [L, stride] block (the axis runs down the rows), in place.
template <bool kLog, class F>
XHAL_CPU_SIMD_CLONES void softmax_columns(F* buf, int64_t L, int64_t stride, int64_t w, F* mx,
                                          double* sum) {
  std::copy(buf, buf + w, mx);
  for (int64_t l = 1; l < L; ++l) {
    const F* x = buf + l * stride;
    for (int64_t j = 0; j < w; ++j) mx[j] = x[j] > mx[j] ? x[j] : mx[j];
  }
  std::fill(sum, sum + w, 0.0);
  if constexpr (kLog) {
    for (int64_t l = 0; l < L; ++l) {
      F* x = buf + l * stride;
      for (int64_t j = 0; j < w; ++j) {
        x[j] -= mx[j];
        sum[j] += exp_of(x[j]);
      }
    }
    for (int64_t j = 0; j < w; ++j) mx[j] = static_cast<F>(std::log(sum[j]));  // reuse as log(sum)
    for (int64_t l = 0; l < L; ++l) {
      F* x = buf + l * stride;
      for (int64_t j = 0; j < w; ++j) x[j] -= mx[j];
    }
    return;
  }
  for (int64_t l = 0; l < L; ++l) {
    F* x = buf + l * stride;
    for (int64_t j = 0; j < w; ++j) {
      x[j] = exp_of(x[j] - mx[j]);
      sum[j] += x[j];
    }
  }
  for (int64_t j = 0; j < w; ++j) mx[j] = static_cast<F>(1.0 / sum[j]);  // reuse as 1/sum
  for (int64_t l = 0; l < L; ++l) {
    F* x = buf + l * stride;
    for (int64_t j = 0; j < w; ++j) x[j] *= mx[j];
  }
}

// Loads `n` elements of T as compute type F (a copy, or a float16/bfloat16 widening).
template <class T, class F>
void load(const T* src, F* dst, int64_t n) {
  if constexpr (std::is_same_v<T, Half>)
    half_to_float_n(src, dst, n);
  else if constexpr (std::is_same_v<T, BFloat16>)
    for (int64_t i = 0; i < n; ++i) dst[i] = bfloat16_to_float(src[i].bits);
  else
    std::copy(src, src + n, dst);
}

template <class T, class F>
void store(const F* src, T* dst, int64_t n) {
  if constexpr (std::is_same_v<T, Half>)
    float_to_half_n(src, dst, n);
  else if constexpr (std::is_same_v<T, BFloat16>)
    for (int64_t i = 0; i < n; ++i) dst[i] = BFloat16{float_to_bfloat16(src[i])};
  else
    std::copy(src, src + n, dst);
}

template <bool kLog, class T>
xhal_status_t softmax_impl(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                           int64_t axis_attr, xhal_tensor_t* Y) {
  const char* kOp = kLog ? "log_softmax" : "softmax";
  return guarded(kOp, [&] {
    using F = compute_t<T>;
    constexpr int32_t dt = DType<T>::id;
    XHAL_CPU_TRY(check_context(kOp, ctx));
    XHAL_CPU_TRY(check_tensor(kOp, "input X", X, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "output Y", Y, dt));
    const Dims dx = dims_of(X), dy = dims_of(Y);
    if (dx != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output Y has shape %s; X has shape %s", kOp,
                  to_string(dy).c_str(), to_string(dx).c_str());
    const int axis = normalize_axis(axis_attr, dx.rank);
    if (axis < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: axis %lld is out of range for X %s", kOp,
                  static_cast<long long>(axis_attr), to_string(dx).c_str());
    if (dx.numel() == 0) return XHAL_OK;
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; ++i) outer *= dx[i];
    for (int i = axis + 1; i < dx.rank; ++i) inner *= dx[i];
    const int64_t L = dx[axis];
    const T* x = data_as<const T>(X);
    T* y = data_as<T>(Y);

    if (inner == 1) {  // rows are contiguous
      // float32 rows are vectorised (about a cycle per element): tasks of at least
      // kParallelGrain elements; the other types cost several times more per element.
      const int64_t task = std::is_same_v<T, float> ? kParallelGrain : kParallelGrain / 8;
      const int64_t grain = std::max<int64_t>(1, task / L);
      // Short rows coming from memory are over before the hardware prefetcher has ramped up
      // on the next one, so each row first asks for the next one (softmax [64,512,512]:
      // 0.72-0.78x the time, [12,512,512]: 0.82-0.95x); a long row would only push itself out
      // of L1 (16 KiB at most), and data within the threads' L2s gains nothing.
      const bool prefetch_next =
          L * static_cast<int64_t>(sizeof(T)) <= 16 * 1024 &&
          2 * dx.numel() * static_cast<int64_t>(sizeof(T)) > l2_cache_bytes() * num_threads();
      parallel_for(outer, grain, [&](int64_t r0, int64_t r1) {
        std::vector<F> buf(std::is_same_v<T, F> ? 0 : static_cast<size_t>(L));
        for (int64_t r = r0; r < r1; ++r) {
          if constexpr (std::is_same_v<T, F>) {  // work in the output row itself
            if (prefetch_next && r + 1 < r1) {
              const char* nx = reinterpret_cast<const char*>(x + (r + 1) * L);
              for (int64_t b = 0; b < L * static_cast<int64_t>(sizeof(T)); b += 64)
                __builtin_prefetch(nx + b, 0, 3);
            }
            softmax_row<kLog>(x + r * L, y + r * L, L);
          } else {
            load(x + r * L, buf.data(), L);
            softmax_row<kLog>(buf.data(), buf.data(), L);
            store(buf.data(), y + r * L, L);
          }
        }
      });
      return XHAL_OK;
    }
    // The axis has stride `inner`: work on [L, width] column blocks so every loop is
    // contiguous.
    const int64_t width =
        std::min(inner, std::max<int64_t>(1, std::min(kInnerBlock, kBlockElems / L)));
    const int64_t blocks = (inner + width - 1) / width;
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / 8 / (L * width));
    parallel_for(outer * blocks, grain, [&](int64_t u0, int64_t u1) {
      std::vector<F> buf(std::is_same_v<T, F> ? 0 : static_cast<size_t>(L * width));
      std::vector<F> mx(static_cast<size_t>(width));
      std::vector<double> sum(static_cast<size_t>(width));
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t o = u / blocks, j0 = (u % blocks) * width;
        const int64_t w = std::min(width, inner - j0);
        const int64_t base = o * L * inner + j0;
        if constexpr (std::is_same_v<T, F>) {  // work in the output block itself
          for (int64_t l = 0; l < L; ++l)
            std::copy(x + base + l * inner, x + base + l * inner + w, y + base + l * inner);
          softmax_columns<kLog>(y + base, L, inner, w, mx.data(), sum.data());
        } else {
          for (int64_t l = 0; l < L; ++l) load(x + base + l * inner, buf.data() + l * w, w);
          softmax_columns<kLog>(buf.data(), L, w, w, mx.data(), sum.data());
          for (int64_t l = 0; l < L; ++l) store(buf.data() + l * w, y + base + l * inner, w);
        }
      }
    });
    return XHAL_OK;
  });
}

template <class T>
xhal_status_t softmax_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                             const xhal_softmax_v1_attrs_t* given, xhal_tensor_t* Y) {
  return softmax_impl<false, T>(ctx, X, read_attrs(given, xhal_softmax_v1_attrs_init).axis, Y);
}

template <class T>
xhal_status_t log_softmax_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                 const xhal_log_softmax_v1_attrs_t* given, xhal_tensor_t* Y) {
  return softmax_impl<true, T>(ctx, X, read_attrs(given, xhal_log_softmax_v1_attrs_init).axis, Y);
}

template <class T>
xhal_status_t register_both(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = DType<T>::id;
  XHAL_CPU_TRY(xhal_register_softmax_v1(h, r, softmax_kernel<T>, dt, 0, "xhal.cpu.softmax"));
  XHAL_CPU_TRY(
      xhal_register_log_softmax_v1(h, r, log_softmax_kernel<T>, dt, 0, "xhal.cpu.log_softmax"));
  return XHAL_OK;
}

}  // namespace

// softmax and log_softmax.
xhal_status_t register_softmax_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_both<float>(h, r));
  XHAL_CPU_TRY(register_both<double>(h, r));
  XHAL_CPU_TRY(register_both<Half>(h, r));
  XHAL_CPU_TRY(register_both<BFloat16>(h, r));
  return XHAL_OK;
}

}  // namespace xhal_cpu
