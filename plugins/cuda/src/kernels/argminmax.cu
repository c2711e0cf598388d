// arg_max and arg_min (ONNX ArgMax-13 / ArgMin-13) along one axis, int64 output, with keepdims
// and select_last_index; semantics of the CPU plugin (argminmax.cpp): ties give the first index
// (the last with select_last_index); a NaN beats every number, so a row holding NaN gives its
// first (last) NaN; float16/bfloat16 compare in float32. An empty axis with a non-empty output
// is an error.
//
// How: the (compact) input is viewed as [O, L, I]. (value, index) pairs are combined with an
// operator that is associative and commutative (better value wins; equal values, or two NaNs,
// go to the lower/higher index), so any reduction tree gives the sequential answer.
//   I == 1: a warp per row for short rows, a block per row otherwise (16-byte loads when
//           aligned);
//   I >  1: 32-column tiles with eight thread rows splitting L, combined in shared memory.
// Not done: splitting very long rows over several blocks (one block per row).
#include <cstdint>

#include "dtypes.cuh"
#include "reduce_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

template <class C>
struct Pair {
  C v;
  int64_t i;
};

template <bool kMax, bool kLast, class C>
struct Better {
  __device__ __forceinline__ Pair<C> operator()(Pair<C> a, Pair<C> b) const {
    const bool an = a.v != a.v, bn = b.v != b.v;  // false for integers
    if (an != bn) return an ? a : b;
    if (an || a.v == b.v) return (kLast ? a.i > b.i : a.i < b.i) ? a : b;
    return (kMax ? a.v > b.v : a.v < b.v) ? a : b;
  }
};

template <class C>
__device__ __forceinline__ Pair<C> shfl_pair(Pair<C> p, int m) {
  return {red::shfl_xor(p.v, m), red::shfl_xor(p.i, m)};
}

template <class C, class F>
__device__ __forceinline__ Pair<C> warp_best(Pair<C> p, F better) {
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) p = better(p, shfl_pair(p, m));
  return p;
}

template <class C, class F>
__device__ __forceinline__ Pair<C> block_best(Pair<C> p, F better) {
  __shared__ C sv[32];
  __shared__ int64_t si[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  p = warp_best(p, better);
  __syncthreads();
  if (lane == 0) {
    sv[warp] = p.v;
    si[warp] = p.i;
  }
  __syncthreads();
  Pair<C> r{sv[0], si[0]};
  for (int w = 1; w < warps; ++w) r = better(r, Pair<C>{sv[w], si[w]});
  return r;
}

// "No element yet" is index -1, which loses to every element.
template <bool kMax, bool kLast, class C>
struct BetterOrNone {
  __device__ __forceinline__ Pair<C> operator()(Pair<C> a, Pair<C> b) const {
    if (a.i < 0) return b;
    if (b.i < 0) return a;
    return Better<kMax, kLast, C>{}(a, b);
  }
};

template <bool kMax, bool kLast, class T>
__global__ void rows_warp_kernel(const T* x, int64_t O, int64_t L, int64_t* y) {
  using C = acc_t<T>;
  const BetterOrNone<kMax, kLast, C> better{};
  const int lane = threadIdx.x & 31;
  const int64_t wpb = blockDim.x >> 5;
  for (int64_t row = blockIdx.x * wpb + (threadIdx.x >> 5); row < O;
       row += int64_t(gridDim.x) * wpb) {
    const T* xr = x + row * L;
    Pair<C> best{C(0), -1};
    for (int64_t l = lane; l < L; l += 32) best = better(best, Pair<C>{convert<C>(xr[l]), l});
    best = warp_best(best, better);
    if (lane == 0) y[row] = best.i;
  }
}

// kVec: 16-byte loads (x 16-byte aligned, L a multiple of 16 / sizeof(T)).
template <bool kMax, bool kLast, bool kVec, class T>
__global__ void rows_block_kernel(const T* x, int64_t O, int64_t L, int64_t* y) {
  using C = acc_t<T>;
  constexpr int V = kVec ? 16 / sizeof(T) : 1;
  const BetterOrNone<kMax, kLast, C> better{};
  for (int64_t row = blockIdx.x; row < O; row += gridDim.x) {
    const T* xr = x + row * L;
    Pair<C> best{C(0), -1};
    for (int64_t l = int64_t(threadIdx.x) * V; l < L; l += int64_t(blockDim.x) * V) {
      C v[V];
      red::load_vec<V>(xr + l, v);
#pragma unroll
      for (int k = 0; k < V; ++k) best = better(best, Pair<C>{v[k], l + k});
    }
    best = block_best(best, better);
    if (threadIdx.x == 0) y[row] = best.i;
  }
}

constexpr int kColRows = 8;

template <bool kMax, bool kLast, class T>
__global__ void cols_kernel(const T* x, int64_t O, int64_t L, int64_t I, int64_t* y) {
  using C = acc_t<T>;
  const BetterOrNone<kMax, kLast, C> better{};
  __shared__ C sv[kColRows][33];
  __shared__ int64_t si[kColRows][33];
  const int64_t tiles_per_o = red::ceil_div(I, 32), tiles = O * tiles_per_o;
  for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    const int64_t o = t / tiles_per_o, col = (t % tiles_per_o) * 32 + threadIdx.x;
    Pair<C> best{C(0), -1};
    if (col < I) {
      const T* xc = x + o * L * I + col;
      for (int64_t l = threadIdx.y; l < L; l += kColRows)
        best = better(best, Pair<C>{convert<C>(xc[l * I]), l});
    }
    sv[threadIdx.y][threadIdx.x] = best.v;
    si[threadIdx.y][threadIdx.x] = best.i;
    __syncthreads();
    if (threadIdx.y == 0 && col < I) {
      Pair<C> s{sv[0][threadIdx.x], si[0][threadIdx.x]};
#pragma unroll
      for (int k = 1; k < kColRows; ++k)
        s = better(s, Pair<C>{sv[k][threadIdx.x], si[k][threadIdx.x]});
      y[o * I + col] = s.i;
    }
    __syncthreads();
  }
}

template <bool kMax, bool kLast, class T>
xhal_status_t launch(const Call& call, const T* x, int64_t O, int64_t L, int64_t I, int64_t* y) {
  if (I == 1) {
    if (L <= 1024)
      rows_warp_kernel<kMax, kLast, T>
          <<<red::blocks_for(red::ceil_div(O, 8)), 256, 0, call.stream>>>(x, O, L, y);
    else if (red::aligned16(x) && L % (16 / sizeof(T)) == 0)
      rows_block_kernel<kMax, kLast, true, T>
          <<<red::blocks_for(O), 256, 0, call.stream>>>(x, O, L, y);
    else
      rows_block_kernel<kMax, kLast, false, T>
          <<<red::blocks_for(O), 256, 0, call.stream>>>(x, O, L, y);
  } else {
    cols_kernel<kMax, kLast, T><<<red::blocks_for(O * red::ceil_div(I, 32)), dim3(32, kColRows),
                                  0, call.stream>>>(x, O, L, I, y);
  }
  return check_launch(call, kMax ? "arg_max" : "arg_min");
}

template <bool kMax, class T, class Attrs>
xhal_status_t arg_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                         const Attrs* attrs, xhal_tensor_t* reduced) {
  const char* op = kMax ? "arg_max" : "arg_min";
  return guarded(op, [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call(op, ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input data", data, dtype_of<T>()));
    XHAL_CUDA_TRY(check_tensor(call, "output reduced", reduced, XHAL_DTYPE_INT64));
    if (attrs == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: attributes are NULL", op);
    if ((attrs->keepdims != 0 && attrs->keepdims != 1) ||
        (attrs->select_last_index != 0 && attrs->select_last_index != 1))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "%s: keepdims (%lld) and select_last_index (%lld) must be 0 or 1", op,
                  static_cast<long long>(attrs->keepdims),
                  static_cast<long long>(attrs->select_last_index));
    const Shape dx = shape_of(data);
    const int axis = red::normalize_axis(attrs->axis, dx.rank);
    if (axis < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: axis %lld is out of range for data %s", op,
                  static_cast<long long>(attrs->axis), to_string(dx).c_str());
    Shape expect;
    for (int i = 0; i < dx.rank; ++i)
      if (i != axis)
        expect.push_back(dx[i]);
      else if (attrs->keepdims)
        expect.push_back(1);
    XHAL_CUDA_TRY(check_shape(call, "output reduced", reduced, expect));
    if (expect.numel() == 0) return XHAL_OK;
    if (dx[axis] == 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: data %s has no elements along axis %d", op,
                  to_string(dx).c_str(), axis);
    const red::AxisView v = red::axis_view(dx, axis);
    CompactInput cx;
    XHAL_CUDA_TRY(cx.init(call, data));
    int64_t* y = data_as<int64_t>(reduced);
    if (attrs->select_last_index)
      return launch<kMax, true>(call, cx.as<T>(), v.outer, v.len, v.inner, y);
    return launch<kMax, false>(call, cx.as<T>(), v.outer, v.len, v.inner, y);
  });
}

template <class T>
xhal_status_t arg_max_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                             const xhal_arg_max_v1_attrs_t* attrs,
                             xhal_tensor_t* reduced) noexcept {
  return arg_kernel<true, T>(ctx, data, attrs, reduced);
}

template <class T>
xhal_status_t arg_min_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                             const xhal_arg_min_v1_attrs_t* attrs,
                             xhal_tensor_t* reduced) noexcept {
  return arg_kernel<false, T>(ctx, data, attrs, reduced);
}

template <class T>
xhal_status_t register_both(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = dtype_of<T>();
  constexpr uint32_t f = XHAL_KERNEL_FLAG_STRIDED_INPUTS;
  XHAL_CUDA_TRY(xhal_register_arg_max_v1(h, r, arg_max_kernel<T>, dt, f, "cuda.arg_max"));
  return xhal_register_arg_min_v1(h, r, arg_min_kernel<T>, dt, f, "cuda.arg_min");
}

xhal_status_t register_argminmax_family(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CUDA_TRY(register_both<float>(h, r));
  XHAL_CUDA_TRY(register_both<double>(h, r));
  XHAL_CUDA_TRY(register_both<__half>(h, r));
  XHAL_CUDA_TRY(register_both<__nv_bfloat16>(h, r));
  XHAL_CUDA_TRY(register_both<int8_t>(h, r));
  XHAL_CUDA_TRY(register_both<uint8_t>(h, r));
  XHAL_CUDA_TRY(register_both<int32_t>(h, r));
  return register_both<int64_t>(h, r);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(argminmax, register_argminmax_family);

}  // namespace xhal_cuda
