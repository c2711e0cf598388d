// max_pool, average_pool (ONNX MaxPool-22 / AveragePool-22, 1-D to 3-D) and
// global_average_pool. Direct loops: per (image, channel) plane, per output row, every kernel
// tap that lands inside the input updates the row over the output-width range where the tap is
// inside too (one contiguous range per tap, so the inner loop vectorises). Planes are spread
// over the thread pool. float16/bfloat16 are widened to float32 (max is exact; the average
// accumulates in float32); int8/uint8 max pool works in the type itself.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "conv_common.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

using convk::BF16;
using convk::Elem;
using convk::Geom;
using convk::valid_range;

// Compute type of max pool: floats as F (exact), integers themselves.
template <class T>
using MaxT = std::conditional_t<std::is_integral_v<T>, T, convk::F_of<T>>;

template <class V>
XHAL_CPU_SIMD_CLONES void max_row(V* acc, const V* src, int64_t lo, int64_t hi, int64_t sw) {
  if constexpr (std::is_integral_v<V>) {
    for (int64_t o = lo; o < hi; ++o) acc[o] = std::max(acc[o], src[o * sw]);
  } else {  // NaN wins: once acc is NaN, v > acc and v != v are both false
    for (int64_t o = lo; o < hi; ++o) {
      const V v = src[o * sw];
      acc[o] = (v > acc[o] || v != v) ? v : acc[o];
    }
  }
}

template <class V>
XHAL_CPU_SIMD_CLONES void sum_row(V* acc, const V* src, int64_t lo, int64_t hi, int64_t sw) {
  for (int64_t o = lo; o < hi; ++o) acc[o] += src[o * sw];
}

// Applies `row(acc_row, src_row, lo, hi, sw)` for every tap of every output row of one plane.
template <class V, class RowFn>
void pool_plane(const Geom& g, const V* x, V* y, RowFn row) {
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      V* acc = y + (od * g.out[1] + oh) * g.out[2];
      for (int64_t kd = 0; kd < g.k[0]; ++kd) {
        const int64_t id = od * g.s[0] - g.pb[0] + kd * g.d[0];
        if (id < 0 || id >= g.in[0]) continue;
        for (int64_t kh = 0; kh < g.k[1]; ++kh) {
          const int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
          if (ih < 0 || ih >= g.in[1]) continue;
          const V* src_row = x + (id * g.in[1] + ih) * g.in[2];
          for (int64_t kw = 0; kw < g.k[2]; ++kw) {
            const int64_t off = kw * g.d[2] - g.pb[2];
            int64_t lo, hi;
            valid_range(g.out[2], g.in[2], g.s[2], off, &lo, &hi);
            if (lo < hi) row(acc, src_row + off, lo, hi, g.s[2]);
          }
        }
      }
    }
}

// Number of taps of output position o along axis a inside [lo_lim, hi_lim).
int64_t taps_inside(const Geom& g, int a, int64_t o, int64_t lo_lim, int64_t hi_lim) {
  int64_t c = 0;
  for (int64_t k = 0; k < g.k[a]; ++k) {
    const int64_t p = o * g.s[a] - g.pb[a] + k * g.d[a];
    c += (p >= lo_lim && p < hi_lim) ? 1 : 0;
  }
  return c;
}

xhal_status_t pool_geom(const char* op, const Dims& dx, const Dims& dy, const int64_t* kernel,
                        int64_t kernel_count, const int64_t* strides, int64_t strides_count,
                        const int64_t* dilations, int64_t dilations_count, const char* auto_pad,
                        const int64_t* pads, int64_t pads_count, int64_t ceil_mode, Geom* g) {
  std::vector<int64_t> shape;
  std::string err;
  XHAL_CPU_TRY(convk::kit_status(
      op,
      xhal::kit::pool_geometry(dx.d, dx.rank, kernel, kernel_count, strides, strides_count,
                               dilations, dilations_count, auto_pad, pads, pads_count, ceil_mode,
                               g, &shape, &err),
      err));
  const Dims expect = xhal::kit::to_shape<Dims>(shape);
  if (expect != dy)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output Y has shape %s; expected %s", op,
                to_string(dy).c_str(), to_string(expect).c_str());
  return XHAL_OK;
}

template <class T>
xhal_status_t max_pool_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                              const xhal_max_pool_v1_attrs_t* given, xhal_tensor_t* Y) {
  constexpr const char* op = "max_pool";
  return guarded(op, [&] {
    constexpr int32_t dt = Elem<T>::id;
    using V = MaxT<T>;
    XHAL_CPU_TRY(check_context(op, ctx));
    XHAL_CPU_TRY(check_tensor(op, "input X", X, dt));
    XHAL_CPU_TRY(check_tensor(op, "output Y", Y, dt));
    const xhal_max_pool_v1_attrs_t at = read_attrs(given, xhal_max_pool_v1_attrs_init);
    if (at.storage_order != 0)
      return fail(XHAL_ERROR_UNSUPPORTED, "max_pool: storage_order %lld; only 0 is supported",
                  static_cast<long long>(at.storage_order));
    const Dims dx = dims_of(X), dy = dims_of(Y);
    Geom g;
    XHAL_CPU_TRY(pool_geom(op, dx, dy, at.kernel_shape, at.kernel_shape_count, at.strides,
                           at.strides_count, at.dilations, at.dilations_count, at.auto_pad, at.pads,
                           at.pads_count, at.ceil_mode, &g));
    if (dy.numel() == 0) return XHAL_OK;
    convk::Widened<T, V> x(data_as<const T>(X), dx.numel());
    convk::Narrowed<T, V> y(data_as<T>(Y), dy.numel());
    const int64_t planes = dx[0] * dx[1], is = g.in_size(), os = g.out_size();
    const V low = std::numeric_limits<V>::has_infinity ? -std::numeric_limits<V>::infinity()
                                                       : std::numeric_limits<V>::lowest();
    const V* xp = x.get();
    V* yp = y.get();
    const int64_t grain =
        std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(os * g.k_size(), 1));
    parallel_for(planes, grain, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        V* out = yp + p * os;
        std::fill(out, out + os, low);
        pool_plane<V>(g, xp + p * is, out, max_row<V>);
      }
    });
    y.finish();
    return XHAL_OK;
  });
}

template <class T>
xhal_status_t average_pool_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                  const xhal_average_pool_v1_attrs_t* given, xhal_tensor_t* Y) {
  constexpr const char* op = "average_pool";
  return guarded(op, [&] {
    constexpr int32_t dt = Elem<T>::id;
    using F = convk::F_of<T>;
    XHAL_CPU_TRY(check_context(op, ctx));
    XHAL_CPU_TRY(check_tensor(op, "input X", X, dt));
    XHAL_CPU_TRY(check_tensor(op, "output Y", Y, dt));
    const xhal_average_pool_v1_attrs_t at = read_attrs(given, xhal_average_pool_v1_attrs_init);
    if (at.count_include_pad != 0 && at.count_include_pad != 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "average_pool: count_include_pad %lld must be 0 or 1",
                  static_cast<long long>(at.count_include_pad));
    const Dims dx = dims_of(X), dy = dims_of(Y);
    Geom g;
    XHAL_CPU_TRY(pool_geom(op, dx, dy, at.kernel_shape, at.kernel_shape_count, at.strides,
                           at.strides_count, at.dilations, at.dilations_count, at.auto_pad, at.pads,
                           at.pads_count, at.ceil_mode, &g));
    if (dy.numel() == 0) return XHAL_OK;
    // The divisor is separable: the product over axes of the taps counted along each axis.
    std::vector<F> inv(static_cast<size_t>(g.out_size()));
    {
      std::vector<int64_t> cnt[3];
      for (int a = 0; a < 3; ++a) {
        const int64_t lo = at.count_include_pad ? -g.pb[a] : 0;
        const int64_t hi = at.count_include_pad ? g.in[a] + g.pe[a] : g.in[a];
        for (int64_t o = 0; o < g.out[a]; ++o) cnt[a].push_back(taps_inside(g, a, o, lo, hi));
      }
      size_t i = 0;
      for (int64_t od = 0; od < g.out[0]; ++od)
        for (int64_t oh = 0; oh < g.out[1]; ++oh)
          for (int64_t ow = 0; ow < g.out[2]; ++ow)
            inv[i++] = F(1) / F(cnt[0][od] * cnt[1][oh] * cnt[2][ow]);
    }
    convk::Widened<T> x(data_as<const T>(X), dx.numel());
    convk::Narrowed<T> y(data_as<T>(Y), dy.numel());
    const int64_t planes = dx[0] * dx[1], is = g.in_size(), os = g.out_size();
    const F* xp = x.get();
    F* yp = y.get();
    const int64_t grain =
        std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(os * g.k_size(), 1));
    parallel_for(planes, grain, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        F* out = yp + p * os;
        std::fill(out, out + os, F(0));
        pool_plane<F>(g, xp + p * is, out, sum_row<F>);
        for (int64_t i = 0; i < os; ++i) out[i] *= inv[static_cast<size_t>(i)];
      }
    });
    y.finish();
    return XHAL_OK;
  });
}

template <class F>
XHAL_CPU_SIMD_CLONES F plane_sum(const F* x, int64_t n) {
  // Eight partial sums: vectorisable without reassociating a single chain.
  F s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += x[i + j];
  F t = 0;
  for (; i < n; ++i) t += x[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + t;
}

template <class T>
xhal_status_t global_average_pool_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                         const xhal_global_average_pool_v1_attrs_t* /*none*/,
                                         xhal_tensor_t* Y) {
  constexpr const char* op = "global_average_pool";
  return guarded(op, [&] {
    constexpr int32_t dt = Elem<T>::id;
    using F = convk::F_of<T>;
    XHAL_CPU_TRY(check_context(op, ctx));
    XHAL_CPU_TRY(check_tensor(op, "input X", X, dt));
    XHAL_CPU_TRY(check_tensor(op, "output Y", Y, dt));
    const Dims dx = dims_of(X), dy = dims_of(Y);
    if (dx.rank < 3)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: X %s must be [N, C, spatial...]", op,
                  to_string(dx).c_str());
    Dims expect;
    expect.push_back(dx[0]);
    expect.push_back(dx[1]);
    for (int i = 2; i < dx.rank; ++i) expect.push_back(1);
    if (expect != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output Y has shape %s; expected %s", op,
                  to_string(dy).c_str(), to_string(expect).c_str());
    const int64_t planes = dx[0] * dx[1];
    if (planes == 0) return XHAL_OK;
    const int64_t is = dx.numel() / planes;
    const T* xp = data_as<const T>(X);
    T* yp = data_as<T>(Y);
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(is, 1));
    parallel_for(planes, grain, [&](int64_t p0, int64_t p1) {
      std::vector<F> buf;
      for (int64_t p = p0; p < p1; ++p) {
        const F* src;
        if constexpr (std::is_same_v<T, F>) {
          src = xp + p * is;
        } else {
          buf.resize(static_cast<size_t>(is));
          convk::widen_n(xp + p * is, buf.data(), is);
          src = buf.data();
        }
        const F mean = plane_sum<F>(src, is) / F(is);
        convk::narrow_n(&mean, yp + p, 1);
      }
    });
    return XHAL_OK;
  });
}

}  // namespace

xhal_status_t register_pool_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  const char* mp = "xhal.cpu.max_pool";
  XHAL_CPU_TRY(xhal_register_max_pool_v1(h, r, max_pool_kernel<float>, XHAL_DTYPE_FLOAT32, 0, mp));
  XHAL_CPU_TRY(xhal_register_max_pool_v1(h, r, max_pool_kernel<double>, XHAL_DTYPE_FLOAT64, 0, mp));
  XHAL_CPU_TRY(xhal_register_max_pool_v1(h, r, max_pool_kernel<Half>, XHAL_DTYPE_FLOAT16, 0, mp));
  XHAL_CPU_TRY(xhal_register_max_pool_v1(h, r, max_pool_kernel<BF16>, XHAL_DTYPE_BFLOAT16, 0, mp));
  XHAL_CPU_TRY(xhal_register_max_pool_v1(h, r, max_pool_kernel<int8_t>, XHAL_DTYPE_INT8, 0, mp));
  XHAL_CPU_TRY(xhal_register_max_pool_v1(h, r, max_pool_kernel<uint8_t>, XHAL_DTYPE_UINT8, 0, mp));
  const char* ap = "xhal.cpu.average_pool";
  XHAL_CPU_TRY(
      xhal_register_average_pool_v1(h, r, average_pool_kernel<float>, XHAL_DTYPE_FLOAT32, 0, ap));
  XHAL_CPU_TRY(
      xhal_register_average_pool_v1(h, r, average_pool_kernel<double>, XHAL_DTYPE_FLOAT64, 0, ap));
  XHAL_CPU_TRY(
      xhal_register_average_pool_v1(h, r, average_pool_kernel<Half>, XHAL_DTYPE_FLOAT16, 0, ap));
  XHAL_CPU_TRY(
      xhal_register_average_pool_v1(h, r, average_pool_kernel<BF16>, XHAL_DTYPE_BFLOAT16, 0, ap));
  const char* gp = "xhal.cpu.global_average_pool";
  XHAL_CPU_TRY(xhal_register_global_average_pool_v1(h, r, global_average_pool_kernel<float>,
                                                    XHAL_DTYPE_FLOAT32, 0, gp));
  XHAL_CPU_TRY(xhal_register_global_average_pool_v1(h, r, global_average_pool_kernel<double>,
                                                    XHAL_DTYPE_FLOAT64, 0, gp));
  XHAL_CPU_TRY(xhal_register_global_average_pool_v1(h, r, global_average_pool_kernel<Half>,
                                                    XHAL_DTYPE_FLOAT16, 0, gp));
  XHAL_CPU_TRY(xhal_register_global_average_pool_v1(h, r, global_average_pool_kernel<BF16>,
                                                    XHAL_DTYPE_BFLOAT16, 0, gp));
  return XHAL_OK;
}

}  // namespace xhal_cpu
