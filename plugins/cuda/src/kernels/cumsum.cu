// cumsum (ONNX CumSum-14) along the axis held by the host-memory int64 scalar `axis`, with the
// exclusive and reverse attributes; semantics of the CPU plugin (cumsum.cpp). Accumulates in
// float64 for float32 and float64, in float32 for float16/bfloat16 (each output rounded once),
// and in the unsigned type of the width for integers (wrapping).
//
// How: the (compact) input is viewed as [O, L, I].
//   I > 1, or short rows: one thread per (o, i) line runs the sum sequentially (neighbouring
//     threads read neighbouring columns, so the loads coalesce when I > 1);
//   I == 1 and long rows: a block per row walks it in tiles of 1024 elements (four consecutive
//     per thread): each thread sums its four, the block scans those sums (warp shuffles, then
//     the warp totals), and the running carry moves from tile to tile.
// Not done: splitting one very long line over several blocks.
#include <cstdint>

#include "dtypes.cuh"
#include "reduce_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

template <class T> struct WideAcc { using type = std::make_unsigned_t<T>; };
template <> struct WideAcc<float> { using type = double; };
template <> struct WideAcc<double> { using type = double; };
template <> struct WideAcc<__half> { using type = float; };
template <> struct WideAcc<__nv_bfloat16> { using type = float; };
template <class T>
using wide_t = typename WideAcc<T>::type;

template <class A>
__device__ __forceinline__ A shfl_up(A v, int d) {
  if constexpr (std::is_same<A, uint32_t>::value)
    return __shfl_up_sync(red::kFullMask, static_cast<unsigned>(v), d);
  else if constexpr (std::is_same<A, uint64_t>::value)
    return static_cast<uint64_t>(
        __shfl_up_sync(red::kFullMask, static_cast<unsigned long long>(v), d));
  else
    return __shfl_up_sync(red::kFullMask, v, d);  // float, double
}

// One thread per line (o, i); positions along the axis in the direction of the sum.
template <bool kExcl, bool kRev, class T>
__global__ void scan_lines_kernel(const T* x, T* y, int64_t O, int64_t L, int64_t I) {
  using Acc = wide_t<T>;
  const int64_t lines = O * I;
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < lines;
       u += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = u / I, i = u % I;
    const T* xl = x + o * L * I + i;
    T* yl = y + o * L * I + i;
    Acc s = Acc(0);
    for (int64_t k = 0; k < L; ++k) {
      const int64_t l = kRev ? L - 1 - k : k;
      const Acc v = convert<Acc>(xl[l * I]);
      if (kExcl) {
        yl[l * I] = convert<T>(s);
        s += v;
      } else {
        s += v;
        yl[l * I] = convert<T>(s);
      }
    }
  }
}

constexpr int kScanThreads = 256;
constexpr int kScanItems = 4;

// A block per contiguous row of length L.
template <bool kExcl, bool kRev, class T>
__global__ void __launch_bounds__(kScanThreads)
    scan_rows_kernel(const T* x, T* y, int64_t O, int64_t L) {
  using Acc = wide_t<T>;
  __shared__ Acc wsum[kScanThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  constexpr int kWarps = kScanThreads / 32;
  constexpr int64_t kTile = int64_t(kScanThreads) * kScanItems;
  for (int64_t row = blockIdx.x; row < O; row += gridDim.x) {
    const T* xr = x + row * L;
    T* yr = y + row * L;
    Acc carry = Acc(0);
    for (int64_t t0 = 0; t0 < L; t0 += kTile) {
      const int64_t k0 = t0 + int64_t(threadIdx.x) * kScanItems;
      Acc v[kScanItems];
      Acc local = Acc(0);
#pragma unroll
      for (int j = 0; j < kScanItems; ++j) {
        const int64_t k = k0 + j;
        v[j] = k < L ? convert<Acc>(xr[kRev ? L - 1 - k : k]) : Acc(0);
        local += v[j];
      }
      // Inclusive scan of `local` within the warp.
      Acc inc = local;
#pragma unroll
      for (int d = 1; d < 32; d <<= 1) {
        const Acc n = shfl_up(inc, d);
        if (lane >= d) inc += n;
      }
      Acc before = shfl_up(inc, 1);  // exclusive within the warp
      if (lane == 0) before = Acc(0);
      if (lane == 31) wsum[warp] = inc;
      __syncthreads();
      if (warp == 0) {
        Acc w = lane < kWarps ? wsum[lane] : Acc(0);
#pragma unroll
        for (int d = 1; d < 32; d <<= 1) {
          const Acc n = shfl_up(w, d);
          if (lane >= d) w += n;
        }
        if (lane < kWarps) wsum[lane] = w;  // inclusive over warps
      }
      __syncthreads();
      Acc run = carry + (warp > 0 ? wsum[warp - 1] : Acc(0)) + before;
#pragma unroll
      for (int j = 0; j < kScanItems; ++j) {
        const int64_t k = k0 + j;
        if (kExcl) {
          if (k < L) yr[kRev ? L - 1 - k : k] = convert<T>(run);
          run += v[j];
        } else {
          run += v[j];
          if (k < L) yr[kRev ? L - 1 - k : k] = convert<T>(run);
        }
      }
      carry += wsum[kWarps - 1];
      __syncthreads();  // wsum is rewritten by the next tile
    }
  }
}

template <bool kExcl, bool kRev, class T>
xhal_status_t launch(const Call& call, const T* x, T* y, int64_t O, int64_t L, int64_t I) {
  if (I == 1 && L > 128)
    scan_rows_kernel<kExcl, kRev, T><<<red::blocks_for(O), kScanThreads, 0, call.stream>>>(
        x, y, O, L);
  else
    scan_lines_kernel<kExcl, kRev, T><<<grid_for(O * I), 256, 0, call.stream>>>(x, y, O, L, I);
  return check_launch(call, "cumsum");
}

template <class T>
xhal_status_t cumsum_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                            const xhal_tensor_t* axis_t, const xhal_cumsum_v1_attrs_t* attrs,
                            xhal_tensor_t* Y) noexcept {
  return guarded("cumsum", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("cumsum", ctx, &call));
    constexpr int32_t dt = dtype_of<T>();
    XHAL_CUDA_TRY(check_tensor(call, "input x", X, dt));
    XHAL_CUDA_TRY(check_host_tensor(call, "input axis", axis_t, XHAL_DTYPE_INT64));
    XHAL_CUDA_TRY(check_tensor(call, "output y", Y, dt));
    if (attrs == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "cumsum: attributes are NULL");
    const int64_t excl = attrs->exclusive, rev = attrs->reverse;
    if ((excl != 0 && excl != 1) || (rev != 0 && rev != 1))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "cumsum: exclusive (%lld) and reverse (%lld) must be 0 or 1",
                  static_cast<long long>(excl), static_cast<long long>(rev));
    const Shape dx = shape_of(X);
    XHAL_CUDA_TRY(check_shape(call, "output y", Y, dx));
    if (axis_t->ndim > 1 || shape_of(axis_t).numel() != 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "cumsum: axis must hold one value, got shape %s",
                  to_string(shape_of(axis_t)).c_str());
    int64_t axis_value = 0;
    read_host_ints(axis_t, &axis_value, 1);
    const int axis = red::normalize_axis(axis_value, dx.rank);
    if (axis < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "cumsum: axis %lld is out of range for x %s",
                  static_cast<long long>(axis_value), to_string(dx).c_str());
    if (dx.numel() == 0) return XHAL_OK;
    const red::AxisView v = red::axis_view(dx, axis);
    CompactInput cx;
    XHAL_CUDA_TRY(cx.init(call, X));
    const T* x = cx.as<T>();
    T* y = data_as<T>(Y);
    if (excl)
      return rev ? launch<true, true>(call, x, y, v.outer, v.len, v.inner)
                 : launch<true, false>(call, x, y, v.outer, v.len, v.inner);
    return rev ? launch<false, true>(call, x, y, v.outer, v.len, v.inner)
               : launch<false, false>(call, x, y, v.outer, v.len, v.inner);
  });
}

xhal_status_t register_cumsum_family(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr uint32_t f = XHAL_KERNEL_FLAG_STRIDED_INPUTS;
  constexpr const char* name = "cuda.cumsum";
  XHAL_CUDA_TRY(xhal_register_cumsum_v1(h, r, cumsum_kernel<float>, XHAL_DTYPE_FLOAT32, f, name));
  XHAL_CUDA_TRY(xhal_register_cumsum_v1(h, r, cumsum_kernel<double>, XHAL_DTYPE_FLOAT64, f, name));
  XHAL_CUDA_TRY(xhal_register_cumsum_v1(h, r, cumsum_kernel<__half>, XHAL_DTYPE_FLOAT16, f, name));
  XHAL_CUDA_TRY(
      xhal_register_cumsum_v1(h, r, cumsum_kernel<__nv_bfloat16>, XHAL_DTYPE_BFLOAT16, f, name));
  XHAL_CUDA_TRY(xhal_register_cumsum_v1(h, r, cumsum_kernel<int32_t>, XHAL_DTYPE_INT32, f, name));
  return xhal_register_cumsum_v1(h, r, cumsum_kernel<int64_t>, XHAL_DTYPE_INT64, f, name);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(cumsum, register_cumsum_family);

}  // namespace xhal_cuda
