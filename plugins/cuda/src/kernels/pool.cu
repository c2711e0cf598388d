// max_pool, average_pool (ONNX MaxPool-22 / AveragePool-22, 1-D to 3-D) and
// global_average_pool.
//
// How: max_pool and average_pool run one thread per output element (grid-stride), visiting the
// window's taps in (depth, height, width) order like the CPU plugin and skipping taps in the
// padding. max: float16/bfloat16 compared as float, NaN wins (once the running value is NaN it
// stays); int8/uint8 compared as themselves. average: the sum in acc_t<T> (float for the 16-bit
// floats) times 1 / count, where count is the product over axes of the taps inside the input
// (or inside input + pads with count_include_pad), as the CPU plugin computes it.
// global_average_pool: one block per (image, channel) plane, a block reduction in acc_t<T>.
// The input is read compact (CompactInput).
//
// Not done: storage_order != 0 (refused, as on the CPU); the Indices output of MaxPool is not
// part of the spec.
#include <cfloat>
#include <climits>
#include <type_traits>

#include "conv_common.cuh"
#include "dtypes.cuh"
#include "movement_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

using convg::Geom;

xhal_status_t pool_geom(const Call& call, const Shape& dx, const xhal_tensor_t* Y,
                        const int64_t* kernel, int64_t kernel_count, const int64_t* strides,
                        int64_t strides_count, const int64_t* dilations, int64_t dilations_count,
                        const char* auto_pad, const int64_t* pads, int64_t pads_count,
                        int64_t ceil_mode, Geom* g) {
  std::vector<int64_t> shape;
  std::string err;
  XHAL_CUDA_TRY(convg::kit_status(
      call.op,
      xhal::kit::pool_geometry(dx.d, dx.rank, kernel, kernel_count, strides, strides_count,
                               dilations, dilations_count, auto_pad, pads, pads_count, ceil_mode,
                               g, &shape, &err),
      err));
  const Shape expect = xhal::kit::to_shape<Shape>(shape);
  return check_shape(call, "output Y", Y, expect);
}

template <class V>
__device__ __forceinline__ V lowest();
template <> __device__ __forceinline__ float lowest<float>() { return -INFINITY; }
template <> __device__ __forceinline__ double lowest<double>() {
  return -static_cast<double>(INFINITY);
}
template <> __device__ __forceinline__ int8_t lowest<int8_t>() { return INT8_MIN; }
template <> __device__ __forceinline__ uint8_t lowest<uint8_t>() { return 0; }

// Visits the taps of output position `o` (linear in the plane) that lie inside the input,
// calling f(input offset within the plane).
template <class F>
__device__ __forceinline__ void for_taps(const Geom& g, int64_t o, F&& f) {
  const int64_t ow = o % g.out[2], oh = (o / g.out[2]) % g.out[1], od = o / (g.out[2] * g.out[1]);
  for (int64_t kd = 0; kd < g.k[0]; ++kd) {
    const int64_t id = od * g.s[0] - g.pb[0] + kd * g.d[0];
    if (id < 0 || id >= g.in[0]) continue;
    for (int64_t kh = 0; kh < g.k[1]; ++kh) {
      const int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
      if (ih < 0 || ih >= g.in[1]) continue;
      for (int64_t kw = 0; kw < g.k[2]; ++kw) {
        const int64_t iw = ow * g.s[2] - g.pb[2] + kw * g.d[2];
        if (iw < 0 || iw >= g.in[2]) continue;
        f((id * g.in[1] + ih) * g.in[2] + iw);
      }
    }
  }
}

template <class T, class V>
__global__ void max_pool_dev(Geom g, int64_t total, const T* x, T* y) {
  const int64_t os = g.out_size(), is = g.in_size();
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < total;
       u += int64_t(gridDim.x) * blockDim.x) {
    const int64_t plane = u / os, o = u % os;
    const T* xp = x + plane * is;
    V acc = lowest<V>();
    for_taps(g, o, [&](int64_t off) {
      const V v = convert<V>(xp[off]);
      if constexpr (std::is_integral<V>::value)
        acc = v > acc ? v : acc;
      else
        acc = (v > acc || v != v) ? v : acc;
    });
    y[u] = convert<T>(acc);
  }
}

__device__ __forceinline__ int64_t taps_inside(const Geom& g, int a, int64_t o, int64_t lo_lim,
                                               int64_t hi_lim) {
  int64_t c = 0;
  for (int64_t k = 0; k < g.k[a]; ++k) {
    const int64_t p = o * g.s[a] - g.pb[a] + k * g.d[a];
    c += (p >= lo_lim && p < hi_lim) ? 1 : 0;
  }
  return c;
}

template <class T>
__global__ void average_pool_dev(Geom g, bool include_pad, int64_t total, const T* x, T* y) {
  using F = acc_t<T>;
  const int64_t os = g.out_size(), is = g.in_size();
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < total;
       u += int64_t(gridDim.x) * blockDim.x) {
    const int64_t plane = u / os, o = u % os;
    const T* xp = x + plane * is;
    F acc = F(0);
    for_taps(g, o, [&](int64_t off) { acc += convert<F>(xp[off]); });
    const int64_t pos[3] = {o / (g.out[2] * g.out[1]), (o / g.out[2]) % g.out[1], o % g.out[2]};
    int64_t cnt = 1;
    for (int a = 0; a < 3; ++a) {
      const int64_t lo = include_pad ? -g.pb[a] : 0;
      const int64_t hi = include_pad ? g.in[a] + g.pe[a] : g.in[a];
      cnt *= taps_inside(g, a, pos[a], lo, hi);
    }
    const F inv = F(1) / F(cnt);
    y[u] = convert<T>(acc * inv);
  }
}

template <class T>
using MaxV = std::conditional_t<std::is_integral<T>::value, T, acc_t<T>>;

template <class T>
xhal_status_t max_pool_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                              const xhal_max_pool_v1_attrs_t* given, xhal_tensor_t* Y) noexcept {
  return guarded("max_pool", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("max_pool", ctx, &call));
    constexpr int32_t dt = dtype_of<T>();
    XHAL_CUDA_TRY(check_tensor(call, "input X", X, dt));
    XHAL_CUDA_TRY(check_tensor(call, "output Y", Y, dt));
    const auto at = read_attrs(given, xhal_max_pool_v1_attrs_init);
    if (at.storage_order != 0)
      return fail(XHAL_ERROR_UNSUPPORTED, "max_pool: storage_order %lld; only 0 is supported",
                  static_cast<long long>(at.storage_order));
    const Shape dx = shape_of(X);
    Geom g;
    XHAL_CUDA_TRY(pool_geom(call, dx, Y, at.kernel_shape, at.kernel_shape_count, at.strides,
                            at.strides_count, at.dilations, at.dilations_count, at.auto_pad,
                            at.pads, at.pads_count, at.ceil_mode, &g));
    const int64_t total = shape_of(Y).numel();
    if (total == 0) return XHAL_OK;
    CompactInput cx;
    XHAL_CUDA_TRY(cx.init(call, X));
    max_pool_dev<T, MaxV<T>><<<grid_for(total), 256, 0, call.stream>>>(g, total, cx.as<T>(),
                                                                       data_as<T>(Y));
    return check_launch(call, "max_pool");
  });
}

template <class T>
xhal_status_t average_pool_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                  const xhal_average_pool_v1_attrs_t* given,
                                  xhal_tensor_t* Y) noexcept {
  return guarded("average_pool", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("average_pool", ctx, &call));
    constexpr int32_t dt = dtype_of<T>();
    XHAL_CUDA_TRY(check_tensor(call, "input X", X, dt));
    XHAL_CUDA_TRY(check_tensor(call, "output Y", Y, dt));
    const auto at = read_attrs(given, xhal_average_pool_v1_attrs_init);
    if (at.count_include_pad != 0 && at.count_include_pad != 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "average_pool: count_include_pad %lld must be 0 or 1",
                  static_cast<long long>(at.count_include_pad));
    const Shape dx = shape_of(X);
    Geom g;
    XHAL_CUDA_TRY(pool_geom(call, dx, Y, at.kernel_shape, at.kernel_shape_count, at.strides,
                            at.strides_count, at.dilations, at.dilations_count, at.auto_pad,
                            at.pads, at.pads_count, at.ceil_mode, &g));
    const int64_t total = shape_of(Y).numel();
    if (total == 0) return XHAL_OK;
    CompactInput cx;
    XHAL_CUDA_TRY(cx.init(call, X));
    average_pool_dev<T><<<grid_for(total), 256, 0, call.stream>>>(
        g, at.count_include_pad == 1, total, cx.as<T>(), data_as<T>(Y));
    return check_launch(call, "average_pool");
  });
}

constexpr int kReduceThreads = 256;

template <class T>
__global__ void global_average_dev(int64_t planes, int64_t is, const T* x, T* y) {
  using F = acc_t<T>;
  __shared__ F part[kReduceThreads];
  for (int64_t p = blockIdx.x; p < planes; p += gridDim.x) {
    const T* xp = x + p * is;
    F s = F(0);
    for (int64_t i = threadIdx.x; i < is; i += blockDim.x) s += convert<F>(xp[i]);
    part[threadIdx.x] = s;
    __syncthreads();
    for (int w = kReduceThreads / 2; w > 0; w /= 2) {
      if (static_cast<int>(threadIdx.x) < w) part[threadIdx.x] += part[threadIdx.x + w];
      __syncthreads();
    }
    if (threadIdx.x == 0) y[p] = convert<T>(part[0] / F(is));
    __syncthreads();
  }
}

template <class T>
xhal_status_t global_average_pool_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                         const xhal_global_average_pool_v1_attrs_t*,
                                         xhal_tensor_t* Y) noexcept {
  return guarded("global_average_pool", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("global_average_pool", ctx, &call));
    constexpr int32_t dt = dtype_of<T>();
    XHAL_CUDA_TRY(check_tensor(call, "input X", X, dt));
    XHAL_CUDA_TRY(check_tensor(call, "output Y", Y, dt));
    const Shape dx = shape_of(X);
    if (dx.rank < 3)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "global_average_pool: X %s must be [N, C, spatial...]", to_string(dx).c_str());
    Shape expect;
    expect.push_back(dx[0]);
    expect.push_back(dx[1]);
    for (int i = 2; i < dx.rank; ++i) expect.push_back(1);
    XHAL_CUDA_TRY(check_shape(call, "output Y", Y, expect));
    const int64_t planes = dx[0] * dx[1];
    if (planes == 0) return XHAL_OK;
    const int64_t is = dx.numel() / planes;
    CompactInput cx;
    XHAL_CUDA_TRY(cx.init(call, X));
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(planes, 65535 * 8));
    global_average_dev<T><<<blocks, kReduceThreads, 0, call.stream>>>(planes, is, cx.as<T>(),
                                                                      data_as<T>(Y));
    return check_launch(call, "global_average_pool");
  });
}

constexpr uint32_t kFlags = XHAL_KERNEL_FLAG_STRIDED_INPUTS;

xhal_status_t register_pool_family(const xhal_host_api_t* h, xhal_registry_t r) {
  auto mp = [&](xhal_max_pool_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_max_pool_v1(h, r, fn, dt, kFlags, "cuda.max_pool");
  };
  auto ap = [&](xhal_average_pool_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_average_pool_v1(h, r, fn, dt, kFlags, "cuda.average_pool");
  };
  auto gp = [&](xhal_global_average_pool_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_global_average_pool_v1(h, r, fn, dt, kFlags, "cuda.global_average_pool");
  };
  XHAL_CUDA_TRY(mp(max_pool_kernel<float>, XHAL_DTYPE_FLOAT32));
  XHAL_CUDA_TRY(mp(max_pool_kernel<double>, XHAL_DTYPE_FLOAT64));
  XHAL_CUDA_TRY(mp(max_pool_kernel<__half>, XHAL_DTYPE_FLOAT16));
  XHAL_CUDA_TRY(mp(max_pool_kernel<__nv_bfloat16>, XHAL_DTYPE_BFLOAT16));
  XHAL_CUDA_TRY(mp(max_pool_kernel<int8_t>, XHAL_DTYPE_INT8));
  XHAL_CUDA_TRY(mp(max_pool_kernel<uint8_t>, XHAL_DTYPE_UINT8));
  XHAL_CUDA_TRY(ap(average_pool_kernel<float>, XHAL_DTYPE_FLOAT32));
  XHAL_CUDA_TRY(ap(average_pool_kernel<double>, XHAL_DTYPE_FLOAT64));
  XHAL_CUDA_TRY(ap(average_pool_kernel<__half>, XHAL_DTYPE_FLOAT16));
  XHAL_CUDA_TRY(ap(average_pool_kernel<__nv_bfloat16>, XHAL_DTYPE_BFLOAT16));
  XHAL_CUDA_TRY(gp(global_average_pool_kernel<float>, XHAL_DTYPE_FLOAT32));
  XHAL_CUDA_TRY(gp(global_average_pool_kernel<double>, XHAL_DTYPE_FLOAT64));
  XHAL_CUDA_TRY(gp(global_average_pool_kernel<__half>, XHAL_DTYPE_FLOAT16));
  return gp(global_average_pool_kernel<__nv_bfloat16>, XHAL_DTYPE_BFLOAT16);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(pool, register_pool_family);

}  // namespace xhal_cuda
