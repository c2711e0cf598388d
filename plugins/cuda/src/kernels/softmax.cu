// softmax and log_softmax (ONNX Softmax-13 / LogSoftmax-13) along one axis:
//   Y = exp(X - max) / sum(exp(X - max)),   Y = (X - max) - log(sum(exp(X - max))),
// literally, so a row holding NaN, or only -Inf, gives NaN as the reference does. float32,
// float16 and bfloat16 compute in float32 (expf, logf: no fast-math); float64 in float64.
//
// How: the (compact) input is [outer, L, inner].
//   inner == 1 (rows contiguous: the transformer case), one pass over memory with the row held
//   in registers:
//     L <= 1024: a warp per row (eight rows per 256-thread block);
//     L <= 256 * VEC * 16: a 256-thread block per row;
//     longer rows that fit in shared memory (227 KiB on Hopper: 58K float32 values): a
//     1024-thread block per row with the row cached in shared memory;
//   with 16-byte vector loads and stores (VEC = 16 / sizeof(T) elements) when the pointers are
//   16-byte aligned and VEC divides L, else scalar (warp path) or the fallback below. Each
//   thread keeps ITEMS (a power of two, as few as cover the row) chunks; max and sum are warp
//   shuffles (plus one shared-memory step for blocks).
//   Longer rows still: a block per row reading the row three times (max, sum, write).
//   inner > 1: a thread per (outer, inner) line, three passes down the line (neighbouring
//   threads read neighbouring columns).
// Not done: splitting a very long row over several blocks; fast-math exponentials.
#include <cmath>
#include <cstdint>

#include "dtypes.cuh"
#include "reduce_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

template <class T>
using calc_t = std::conditional_t<std::is_same<T, double>::value, double, float>;

__device__ __forceinline__ float exp_of(float v) { return ::expf(v); }
__device__ __forceinline__ double exp_of(double v) { return ::exp(v); }
__device__ __forceinline__ float log_of(float v) { return ::logf(v); }
__device__ __forceinline__ double log_of(double v) { return ::log(v); }

constexpr int kThreads = 256;

// Rows held in registers: chunk c = it * group + lane covers elements [c * VEC, c * VEC + VEC).
template <bool kLog, class T, int VEC, int ITEMS, bool kWarp>
__global__ void __launch_bounds__(kThreads)
    softmax_rows_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int64_t L) {
  using F = calc_t<T>;
  const int group = kWarp ? 32 : kThreads;
  const int lane = kWarp ? (threadIdx.x & 31) : threadIdx.x;
  const int64_t rows_per_block = kWarp ? kThreads / 32 : 1;
  const int64_t first = blockIdx.x * rows_per_block + (kWarp ? (threadIdx.x >> 5) : 0);
  for (int64_t row = first; row < rows; row += int64_t(gridDim.x) * rows_per_block) {
    const T* xr = x + row * L;
    T* yr = y + row * L;
    F v[ITEMS][VEC];
    F m = -static_cast<F>(INFINITY);
#pragma unroll
    for (int it = 0; it < ITEMS; ++it) {
      const int64_t e0 = (int64_t(it) * group + lane) * VEC;
      if (e0 < L) {
        red::load_vec<VEC>(xr + e0, v[it]);
#pragma unroll
        for (int k = 0; k < VEC; ++k) m = v[it][k] > m ? v[it][k] : m;
      }
    }
    m = red::group_all<kWarp>(m, red::MaxOp{});
    F s = F(0);
#pragma unroll
    for (int it = 0; it < ITEMS; ++it) {
      const int64_t e0 = (int64_t(it) * group + lane) * VEC;
      if (e0 < L) {
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
          const F ex = exp_of(v[it][k] - m);
          s += ex;
          if (!kLog) v[it][k] = ex;
        }
      }
    }
    s = red::group_all<kWarp>(s, red::SumOp{});
    const F shift = kLog ? log_of(s) : F(1) / s;
#pragma unroll
    for (int it = 0; it < ITEMS; ++it) {
      const int64_t e0 = (int64_t(it) * group + lane) * VEC;
      if (e0 < L) {
        F out[VEC];
#pragma unroll
        for (int k = 0; k < VEC; ++k) out[k] = kLog ? (v[it][k] - m) - shift : v[it][k] * shift;
        red::store_vec<VEC>(yr + e0, out);
      }
    }
  }
}

// Long rows: a 1024-thread block per row with the row cached (in the compute type) in dynamic
// shared memory, so global memory is read once.
constexpr int kBigThreads = 1024;

template <bool kLog, class T, int VEC>
__global__ void __launch_bounds__(kBigThreads)
    softmax_smem_rows_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t rows,
                             int64_t L) {
  using F = calc_t<T>;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  F* buf = reinterpret_cast<F*>(smem_raw);
  const int64_t chunks = L / VEC;  // VEC divides L
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * L;
    T* yr = y + row * L;
    F m = -static_cast<F>(INFINITY);
    for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x) {
      F v[VEC];
      red::load_vec<VEC>(xr + c * VEC, v);
#pragma unroll
      for (int k = 0; k < VEC; ++k) m = v[k] > m ? v[k] : m;
      red::smem_store<VEC>(buf + c * VEC, v);
    }
    m = red::block_all(m, red::MaxOp{});  // also makes buf visible to every thread
    F s = F(0);
    for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x) {
      F v[VEC];
      red::smem_load<VEC>(buf + c * VEC, v);
#pragma unroll
      for (int k = 0; k < VEC; ++k) s += exp_of(v[k] - m);
    }
    s = red::block_all(s, red::SumOp{});
    const F shift = kLog ? log_of(s) : F(1) / s;
    for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x) {
      F v[VEC];
      red::smem_load<VEC>(buf + c * VEC, v);
#pragma unroll
      for (int k = 0; k < VEC; ++k) v[k] = kLog ? (v[k] - m) - shift : exp_of(v[k] - m) * shift;
      red::store_vec<VEC>(yr + c * VEC, v);
    }
    __syncthreads();  // buf is rewritten by the next row
  }
}

template <bool kLog, class T, int VEC>
xhal_status_t launch_smem_rows(const Call& call, const T* x, T* y, int64_t rows, int64_t L) {
  const size_t bytes = sizeof(calc_t<T>) * static_cast<size_t>(L);
  auto* kernel = softmax_smem_rows_kernel<kLog, T, VEC>;
  XHAL_CUDA_CHECK("softmax (shared memory size)",
                  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(bytes)));
  kernel<<<red::blocks_for(rows), kBigThreads, bytes, call.stream>>>(x, y, rows, L);
  return XHAL_OK;
}

// Longest rows: a block per row, three passes over global memory.
template <bool kLog, class T>
__global__ void __launch_bounds__(kThreads)
    softmax_long_rows_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t rows,
                             int64_t L) {
  using F = calc_t<T>;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * L;
    T* yr = y + row * L;
    F m = -static_cast<F>(INFINITY);
    for (int64_t i = threadIdx.x; i < L; i += blockDim.x) {
      const F v = convert<F>(xr[i]);
      m = v > m ? v : m;
    }
    m = red::block_all(m, red::MaxOp{});
    F s = F(0);
    for (int64_t i = threadIdx.x; i < L; i += blockDim.x) s += exp_of(convert<F>(xr[i]) - m);
    s = red::block_all(s, red::SumOp{});
    const F shift = kLog ? log_of(s) : F(1) / s;
    for (int64_t i = threadIdx.x; i < L; i += blockDim.x) {
      const F d = convert<F>(xr[i]) - m;
      yr[i] = convert<T>(kLog ? d - shift : exp_of(d) * shift);
    }
  }
}

// The axis has stride `inner`: a thread per (outer, inner) line.
template <bool kLog, class T>
__global__ void softmax_lines_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t outer,
                                     int64_t L, int64_t inner) {
  using F = calc_t<T>;
  const int64_t lines = outer * inner;
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < lines;
       u += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = u / inner, i = u % inner;
    const T* xl = x + o * L * inner + i;
    T* yl = y + o * L * inner + i;
    F m = -static_cast<F>(INFINITY);
    for (int64_t l = 0; l < L; ++l) {
      const F v = convert<F>(xl[l * inner]);
      m = v > m ? v : m;
    }
    F s = F(0);
    for (int64_t l = 0; l < L; ++l) s += exp_of(convert<F>(xl[l * inner]) - m);
    const F shift = kLog ? log_of(s) : F(1) / s;
    for (int64_t l = 0; l < L; ++l) {
      const F d = convert<F>(xl[l * inner]) - m;
      yl[l * inner] = convert<T>(kLog ? d - shift : exp_of(d) * shift);
    }
  }
}

template <bool kLog, class T, int VEC, int ITEMS, bool kWarp>
void launch_rows(const Call& call, const T* x, T* y, int64_t rows, int64_t L) {
  const int64_t blocks = kWarp ? red::ceil_div(rows, kThreads / 32) : rows;
  softmax_rows_kernel<kLog, T, VEC, ITEMS, kWarp>
      <<<red::blocks_for(blocks), kThreads, 0, call.stream>>>(x, y, rows, L);
}

// ITEMS from the bucket (1..max, powers of two).
template <bool kLog, class T, int VEC, bool kWarp, int kMaxItems>
void dispatch_items(const Call& call, const T* x, T* y, int64_t rows, int64_t L, int items) {
  switch (items) {
    case 1: return launch_rows<kLog, T, VEC, 1, kWarp>(call, x, y, rows, L);
    case 2: return launch_rows<kLog, T, VEC, 2, kWarp>(call, x, y, rows, L);
    case 4: return launch_rows<kLog, T, VEC, 4, kWarp>(call, x, y, rows, L);
    case 8: return launch_rows<kLog, T, VEC, 8, kWarp>(call, x, y, rows, L);
    case 16: return launch_rows<kLog, T, VEC, 16, kWarp>(call, x, y, rows, L);
    default:
      if constexpr (kMaxItems >= 32)
        return launch_rows<kLog, T, VEC, 32, kWarp>(call, x, y, rows, L);
  }
}

template <bool kLog, class T>
xhal_status_t softmax_rows(const Call& call, const T* x, T* y, int64_t rows, int64_t L) {
  constexpr int VEC = 16 / sizeof(T);
  const bool vec = red::aligned16(x) && red::aligned16(y) && L % VEC == 0;
  if (L <= 1024) {
    if (vec)
      dispatch_items<kLog, T, VEC, true, 16>(call, x, y, rows, L,
                                             red::pow2_bucket(red::ceil_div(L, 32 * VEC), 16));
    else
      dispatch_items<kLog, T, 1, true, 32>(call, x, y, rows, L,
                                           red::pow2_bucket(red::ceil_div(L, 32), 32));
  } else if (vec && L <= int64_t(kThreads) * VEC * 16) {
    dispatch_items<kLog, T, VEC, false, 16>(
        call, x, y, rows, L, red::pow2_bucket(red::ceil_div(L, int64_t(kThreads) * VEC), 16));
  } else if (int64_t(sizeof(calc_t<T>)) * L <= red::smem_optin_bytes(call.device)) {
    if (vec)
      XHAL_CUDA_TRY((launch_smem_rows<kLog, T, VEC>(call, x, y, rows, L)));
    else
      XHAL_CUDA_TRY((launch_smem_rows<kLog, T, 1>(call, x, y, rows, L)));
  } else {
    softmax_long_rows_kernel<kLog, T><<<red::blocks_for(rows), kThreads, 0, call.stream>>>(
        x, y, rows, L);
  }
  return check_launch(call, kLog ? "log_softmax rows" : "softmax rows");
}

template <bool kLog, class T>
xhal_status_t softmax_impl(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                           const int64_t* axis_attr, xhal_tensor_t* Y) {
  const char* op = kLog ? "log_softmax" : "softmax";
  return guarded(op, [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call(op, ctx, &call));
    constexpr int32_t dt = dtype_of<T>();
    XHAL_CUDA_TRY(check_tensor(call, "input X", X, dt));
    XHAL_CUDA_TRY(check_tensor(call, "output Y", Y, dt));
    if (axis_attr == nullptr)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: attributes are NULL", op);
    const Shape dx = shape_of(X);
    XHAL_CUDA_TRY(check_shape(call, "output Y", Y, dx));
    const int axis = red::normalize_axis(*axis_attr, dx.rank);
    if (axis < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: axis %lld is out of range for X %s", op,
                  static_cast<long long>(*axis_attr), to_string(dx).c_str());
    if (dx.numel() == 0) return XHAL_OK;
    const red::AxisView v = red::axis_view(dx, axis);
    CompactInput cx;
    XHAL_CUDA_TRY(cx.init(call, X));
    const T* x = cx.as<T>();
    T* y = data_as<T>(Y);
    if (v.inner == 1) return softmax_rows<kLog>(call, x, y, v.outer, v.len);
    softmax_lines_kernel<kLog, T><<<grid_for(v.outer * v.inner), 256, 0, call.stream>>>(
        x, y, v.outer, v.len, v.inner);
    return check_launch(call, kLog ? "log_softmax lines" : "softmax lines");
  });
}

template <class T>
xhal_status_t softmax_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                             const xhal_softmax_v1_attrs_t* attrs, xhal_tensor_t* Y) noexcept {
  return softmax_impl<false, T>(ctx, X, attrs ? &attrs->axis : nullptr, Y);
}

template <class T>
xhal_status_t log_softmax_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                 const xhal_log_softmax_v1_attrs_t* attrs,
                                 xhal_tensor_t* Y) noexcept {
  return softmax_impl<true, T>(ctx, X, attrs ? &attrs->axis : nullptr, Y);
}

template <class T>
xhal_status_t register_both(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = dtype_of<T>();
  constexpr uint32_t f = XHAL_KERNEL_FLAG_STRIDED_INPUTS;
  XHAL_CUDA_TRY(xhal_register_softmax_v1(h, r, softmax_kernel<T>, dt, f, "cuda.softmax"));
  return xhal_register_log_softmax_v1(h, r, log_softmax_kernel<T>, dt, f, "cuda.log_softmax");
}

xhal_status_t register_softmax_family(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CUDA_TRY(register_both<float>(h, r));
  XHAL_CUDA_TRY(register_both<double>(h, r));
  XHAL_CUDA_TRY(register_both<__half>(h, r));
  return register_both<__nv_bfloat16>(h, r);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(softmax, register_softmax_family);

}  // namespace xhal_cuda
