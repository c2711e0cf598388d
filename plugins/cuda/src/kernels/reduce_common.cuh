// Device helpers shared by the reduction-shaped kernel families of this plugin (reduce_*,
// arg_max/arg_min, cumsum, top_k, softmax, the normalisations): warp and block reductions with
// any associative combine functor over any accumulator type, axis normalisation, and the
// [outer, axis, inner] view of a shape around one axis.
//
// Block reductions use one shared-memory slot per warp (at most 32 warps) and must be reached
// by every thread of the block; warp reductions by every lane of the warp.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "dtypes.cuh"
#include "support.h"

namespace xhal_cuda {
namespace red {

constexpr unsigned kFullMask = 0xffffffffu;

// __shfl_xor_sync for every accumulator type used here (bool and 8-bit types travel as int).
template <class A>
__device__ __forceinline__ A shfl_xor(A v, int mask) {
  if constexpr (std::is_same<A, bool>::value) {
    return __shfl_xor_sync(kFullMask, static_cast<int>(v), mask) != 0;
  } else if constexpr (std::is_integral<A>::value && sizeof(A) < 4) {
    return static_cast<A>(__shfl_xor_sync(kFullMask, static_cast<int>(v), mask));
  } else if constexpr (std::is_same<A, uint32_t>::value) {
    return __shfl_xor_sync(kFullMask, static_cast<unsigned>(v), mask);
  } else if constexpr (std::is_same<A, int64_t>::value) {
    return static_cast<int64_t>(
        __shfl_xor_sync(kFullMask, static_cast<long long>(v), mask));
  } else if constexpr (std::is_same<A, uint64_t>::value) {
    return static_cast<uint64_t>(
        __shfl_xor_sync(kFullMask, static_cast<unsigned long long>(v), mask));
  } else {
    return __shfl_xor_sync(kFullMask, v, mask);  // float, double, int32
  }
}

// Every lane gets the combination of all 32 lanes' values (butterfly: the same on all lanes).
template <class A, class F>
__device__ __forceinline__ A warp_all(A v, F combine) {
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) v = combine(v, shfl_xor(v, m));
  return v;
}

// Every thread of the block gets the combination of all threads' values. blockDim.x must be a
// multiple of 32 (at most 1024); 1-D blocks only. Safe to call repeatedly (it synchronises
// before reusing its shared slots).
template <class A, class F>
__device__ __forceinline__ A block_all(A v, F combine) {
  __shared__ alignas(16) unsigned char raw[32 * 16];
  A* slots = reinterpret_cast<A*>(raw);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  v = warp_all(v, combine);
  __syncthreads();  // a previous call may still read the slots
  if (lane == 0) slots[warp] = v;
  __syncthreads();
  A r = slots[0];
  for (int w = 1; w < warps; ++w) r = combine(r, slots[w]);
  return r;
}

// The reduction over a "group" that owns one row: a warp (kWarp) or the whole block.
template <bool kWarp, class A, class F>
__device__ __forceinline__ A group_all(A v, F combine) {
  if constexpr (kWarp)
    return warp_all(v, combine);
  else
    return block_all(v, combine);
}

struct SumOp {
  template <class A>
  __device__ __forceinline__ A operator()(A a, A b) const { return a + b; }
};
// max that ignores NaN (softmax lets NaN reach the sum instead).
struct MaxOp {
  template <class A>
  __device__ __forceinline__ A operator()(A a, A b) const { return b > a ? b : a; }
};

// VEC consecutive elements at p (16-byte aligned when VEC > 1, VEC * sizeof(T) == 16), widened.
template <int VEC, class T, class F>
__device__ __forceinline__ void load_vec(const T* p, F (&out)[VEC]) {
  if constexpr (VEC == 1) {
    out[0] = convert<F>(p[0]);
  } else {
    static_assert(VEC * sizeof(T) == 16, "vector loads are 16 bytes");
    const uint4 raw = *reinterpret_cast<const uint4*>(p);
    const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
    for (int k = 0; k < VEC; ++k) out[k] = convert<F>(e[k]);
  }
}

template <int VEC, class T, class F>
__device__ __forceinline__ void store_vec(T* p, const F (&in)[VEC]) {
  if constexpr (VEC == 1) {
    p[0] = convert<T>(in[0]);
  } else {
    static_assert(VEC * sizeof(T) == 16, "vector stores are 16 bytes");
    uint4 raw;
    T* e = reinterpret_cast<T*>(&raw);
#pragma unroll
    for (int k = 0; k < VEC; ++k) e[k] = convert<T>(in[k]);
    *reinterpret_cast<uint4*>(p) = raw;
  }
}

// VEC values of the compute type F to / from shared memory at p (aligned to VEC * sizeof(F)
// when that is 16 or 32 bytes): 16-byte accesses where they fit, so a warp's accesses do not
// conflict.
template <int VEC, class F>
__device__ __forceinline__ void smem_store(F* p, const F (&v)[VEC]) {
  if constexpr (std::is_same<F, float>::value && VEC % 4 == 0) {
#pragma unroll
    for (int k = 0; k < VEC; k += 4)
      *reinterpret_cast<float4*>(p + k) = make_float4(v[k], v[k + 1], v[k + 2], v[k + 3]);
  } else if constexpr (std::is_same<F, double>::value && VEC % 2 == 0) {
#pragma unroll
    for (int k = 0; k < VEC; k += 2)
      *reinterpret_cast<double2*>(p + k) = make_double2(v[k], v[k + 1]);
  } else {
#pragma unroll
    for (int k = 0; k < VEC; ++k) p[k] = v[k];
  }
}

template <int VEC, class F>
__device__ __forceinline__ void smem_load(const F* p, F (&v)[VEC]) {
  if constexpr (std::is_same<F, float>::value && VEC % 4 == 0) {
#pragma unroll
    for (int k = 0; k < VEC; k += 4) {
      const float4 q = *reinterpret_cast<const float4*>(p + k);
      v[k] = q.x;
      v[k + 1] = q.y;
      v[k + 2] = q.z;
      v[k + 3] = q.w;
    }
  } else if constexpr (std::is_same<F, double>::value && VEC % 2 == 0) {
#pragma unroll
    for (int k = 0; k < VEC; k += 2) {
      const double2 q = *reinterpret_cast<const double2*>(p + k);
      v[k] = q.x;
      v[k + 1] = q.y;
    }
  } else {
#pragma unroll
    for (int k = 0; k < VEC; ++k) v[k] = p[k];
  }
}

// Largest dynamic shared memory a block of this device may opt in to (0 when unknown).
inline int64_t smem_optin_bytes(int device) {
  int v = 0;
  if (cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return v;
}

// The smallest of 1, 2, 4, ..., `max` that is >= n (max when none is).
inline int pow2_bucket(int64_t n, int max) {
  int b = 1;
  while (b < n && b < max) b <<= 1;
  return b;
}

inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Normalised axis in [0, rank), or -1 when out of [-rank, rank).
inline int normalize_axis(int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) return -1;
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

// The shape as [outer, shape[axis], inner].
struct AxisView {
  int64_t outer = 1, len = 1, inner = 1;
};
inline AxisView axis_view(const Shape& s, int axis) {
  AxisView v;
  for (int i = 0; i < axis; ++i) v.outer *= s[i];
  v.len = s[axis];
  for (int i = axis + 1; i < s.rank; ++i) v.inner *= s[i];
  return v;
}

__host__ __device__ inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Grid size for `units` independent work items (blocks), capped so grid-stride loops stride.
inline unsigned blocks_for(int64_t units) {
  return static_cast<unsigned>(units < 1 ? 1 : (units > 65535 * 8 ? 65535 * 8 : units));
}

}  // namespace red
}  // namespace xhal_cuda
