// top_k (ONNX TopK-24): the K largest (or smallest) elements along one axis (K from a
// host-memory int64 input), values and int64 indices, always in sorted order (xhal pins
// sorted=0 to it). Order as the CPU plugin (topk.cpp) and the reference: by value, ties by
// lower index; NaN sorts above every number (first for largest=1, last for largest=0).
// float16/bfloat16 compare in float32; values are copied from the input unchanged.
//
// How: every line along the axis is sorted as (key, index) pairs by a bitonic sort, padded to a
// power of two P with entries that sort after every real one; the first K are written out.
//   P <= 4096: one block per line, the pairs in shared memory (at most 48 KiB);
//   larger, K <= 1024 and ceil(L / 4096) * K <= 4096: the best K of each 4096-element segment
//              (a block each, in shared memory), then the best K of those candidates;
//   otherwise: all lines at once in a global scratch, one launch per bitonic stage.
// Not done: a selection (radix select) that avoids sorting whole (segments of) lines;
// lines of 2^31 elements or more.
#include <climits>
#include <cstdint>

#include "dtypes.cuh"
#include "reduce_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

// a > b in the order where NaN is above every number (NaNs equal among themselves).
template <class C>
__device__ __forceinline__ bool greater(C a, C b) {
  if constexpr (std::is_floating_point<C>::value) {
    if (a != a) return b == b;
    if (b != b) return false;
  }
  return a > b;
}

// Does (av, ai) come before (bv, bi) in the output order? Padding (index >= L) comes last.
template <bool kLargest, class C>
__device__ __forceinline__ bool before(C av, int ai, C bv, int bi, int L) {
  if (ai >= L || bi >= L) return ai < bi;
  const bool ab = kLargest ? greater(av, bv) : greater(bv, av);
  if (ab) return true;
  const bool ba = kLargest ? greater(bv, av) : greater(av, bv);
  return !ba && ai < bi;
}

template <bool kLargest, class C>
__device__ __forceinline__ void compare_swap(C* key, int* idx, int t, int p, int k, int L) {
  const bool up = (t & k) == 0;
  const bool swap = up ? before<kLargest>(key[p], idx[p], key[t], idx[t], L)
                       : before<kLargest>(key[t], idx[t], key[p], idx[p], L);
  if (swap) {
    const C kv = key[t];
    key[t] = key[p];
    key[p] = kv;
    const int iv = idx[t];
    idx[t] = idx[p];
    idx[p] = iv;
  }
}

// Bytes of the keys in shared memory, rounded up so that the int indices after them are
// aligned (1-byte keys of a short line would leave them misaligned).
__host__ __device__ inline size_t keys_bytes(size_t key_size, int P) {
  return (key_size * static_cast<size_t>(P) + 15) / 16 * 16;
}

// One block per line; P (a power of two) pairs in dynamic shared memory.
template <bool kLargest, class T>
__global__ void topk_shared_kernel(const T* x, int64_t O, int L, int64_t I, int P, int64_t K,
                                   T* vals, int64_t* inds) {
  using C = acc_t<T>;
  extern __shared__ __align__(16) unsigned char smem[];
  C* key = reinterpret_cast<C*>(smem);
  int* idx = reinterpret_cast<int*>(smem + keys_bytes(sizeof(C), P));
  const int64_t lines = O * I;
  for (int64_t line = blockIdx.x; line < lines; line += gridDim.x) {
    const int64_t o = line / I, i = line % I;
    const T* xl = x + o * L * I + i;
    for (int t = threadIdx.x; t < P; t += blockDim.x) {
      key[t] = t < L ? convert<C>(xl[t * I]) : C(0);
      idx[t] = t;
    }
    __syncthreads();
    for (int k = 2; k <= P; k <<= 1)
      for (int j = k >> 1; j > 0; j >>= 1) {
        for (int t = threadIdx.x; t < P; t += blockDim.x) {
          const int p = t ^ j;
          if (p > t) compare_swap<kLargest>(key, idx, t, p, k, L);
        }
        __syncthreads();
      }
    T* vl = vals + o * K * I + i;
    int64_t* il = inds + o * K * I + i;
    for (int64_t k = threadIdx.x; k < K; k += blockDim.x) {
      const int src = idx[k];
      vl[k * I] = xl[int64_t(src) * I];
      il[k * I] = src;
    }
    __syncthreads();
  }
}

// Long lines with a small K, stage 1: block u = line * nseg + seg sorts the segment's S
// elements (P = a power of two >= S) and writes its best K (key, index) pairs, padding past
// the segment's end included, to the candidate arrays [lines, nseg * K].
template <bool kLargest, class T>
__global__ void topk_segments_kernel(const T* x, int64_t O, int L, int64_t I, int S, int P,
                                     int nseg, int64_t K, acc_t<T>* ckey, int* cidx) {
  using C = acc_t<T>;
  extern __shared__ __align__(16) unsigned char smem[];
  C* key = reinterpret_cast<C*>(smem);
  int* idx = reinterpret_cast<int*>(smem + keys_bytes(sizeof(C), P));
  const int64_t units = O * I * nseg;
  for (int64_t u = blockIdx.x; u < units; u += gridDim.x) {
    const int64_t line = u / nseg;
    const int seg = static_cast<int>(u % nseg);
    const int64_t o = line / I, i = line % I;
    const T* xl = x + o * L * I + i;
    for (int t = threadIdx.x; t < P; t += blockDim.x) {
      const int l = seg * S + t;
      const bool real = t < S && l < L;
      key[t] = real ? convert<C>(xl[int64_t(l) * I]) : C(0);
      idx[t] = real ? l : INT_MAX;  // padding sorts after every element
    }
    __syncthreads();
    for (int k = 2; k <= P; k <<= 1)
      for (int j = k >> 1; j > 0; j >>= 1) {
        for (int t = threadIdx.x; t < P; t += blockDim.x) {
          const int p = t ^ j;
          if (p > t) compare_swap<kLargest>(key, idx, t, p, k, L);
        }
        __syncthreads();
      }
    for (int64_t k = threadIdx.x; k < K; k += blockDim.x) {
      ckey[u * K + k] = key[k];
      cidx[u * K + k] = idx[k];
    }
    __syncthreads();
  }
}

// Stage 2: block per line sorts its M = nseg * K candidates (P a power of two >= M) and
// writes the best K.
template <bool kLargest, class T>
__global__ void topk_merge_kernel(const T* x, int64_t O, int L, int64_t I, int M, int P,
                                  int64_t K, const acc_t<T>* ckey, const int* cidx, T* vals,
                                  int64_t* inds) {
  using C = acc_t<T>;
  extern __shared__ __align__(16) unsigned char smem[];
  C* key = reinterpret_cast<C*>(smem);
  int* idx = reinterpret_cast<int*>(smem + keys_bytes(sizeof(C), P));
  const int64_t lines = O * I;
  for (int64_t line = blockIdx.x; line < lines; line += gridDim.x) {
    const int64_t o = line / I, i = line % I;
    for (int t = threadIdx.x; t < P; t += blockDim.x) {
      key[t] = t < M ? ckey[line * M + t] : C(0);
      idx[t] = t < M ? cidx[line * M + t] : INT_MAX;
    }
    __syncthreads();
    for (int k = 2; k <= P; k <<= 1)
      for (int j = k >> 1; j > 0; j >>= 1) {
        for (int t = threadIdx.x; t < P; t += blockDim.x) {
          const int p = t ^ j;
          if (p > t) compare_swap<kLargest>(key, idx, t, p, k, L);
        }
        __syncthreads();
      }
    const T* xl = x + o * L * I + i;
    T* vl = vals + o * K * I + i;
    int64_t* il = inds + o * K * I + i;
    for (int64_t k = threadIdx.x; k < K; k += blockDim.x) {
      const int src = idx[k];
      vl[k * I] = xl[int64_t(src) * I];
      il[k * I] = src;
    }
    __syncthreads();
  }
}

// Global-memory variant: [lines, P] keys and indices in a scratch.
template <class T>
__global__ void topk_init_kernel(const T* x, int64_t O, int L, int64_t I, int P, acc_t<T>* key,
                                 int* idx) {
  const int64_t n = O * I * P;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t line = e / P;
    const int t = static_cast<int>(e % P);
    const int64_t o = line / I, i = line % I;
    key[e] = t < L ? convert<acc_t<T>>(x[o * L * I + int64_t(t) * I + i]) : acc_t<T>(0);
    idx[e] = t;
  }
}

template <bool kLargest, class C>
__global__ void topk_step_kernel(int64_t lines, int L, int P, int k, int j, C* key, int* idx) {
  const int64_t n = lines * P;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int t = static_cast<int>(e % P);
    const int p = t ^ j;
    if (p > t) {
      const int64_t base = e - t;
      compare_swap<kLargest>(key + base, idx + base, t, p, k, L);
    }
  }
}

template <class T>
__global__ void topk_gather_kernel(const T* x, int64_t O, int L, int64_t I, int P, int64_t K,
                                   const int* idx, T* vals, int64_t* inds) {
  const int64_t n = O * I * K;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n;
       e += int64_t(gridDim.x) * blockDim.x) {
    // e runs over the output [O, K, I] in order.
    const int64_t i = e % I, k = (e / I) % K, o = e / (I * K);
    const int src = idx[(o * I + i) * P + k];
    vals[e] = x[o * L * I + int64_t(src) * I + i];
    inds[e] = src;
  }
}

constexpr int kSharedMaxP = 4096;

template <bool kLargest, class T>
xhal_status_t run(const Call& call, const T* x, int64_t O, int64_t L, int64_t I, int64_t K,
                  T* vals, int64_t* inds) {
  using C = acc_t<T>;
  int P = 1;
  while (P < L) P <<= 1;
  const int Li = static_cast<int>(L);
  const int64_t lines = O * I;
  if (P <= kSharedMaxP) {
    const int threads = P / 2 < 32 ? 32 : (P / 2 > 512 ? 512 : P / 2);
    const size_t smem = keys_bytes(sizeof(C), P) + sizeof(int) * static_cast<size_t>(P);
    topk_shared_kernel<kLargest, T><<<red::blocks_for(lines), threads, smem, call.stream>>>(
        x, O, Li, I, P, K, vals, inds);
    return check_launch(call, "top_k (shared-memory sort)");
  }
  // Long lines, small K: the best K of each 4096-element segment, then the best K of those.
  const int64_t nseg = red::ceil_div(L, kSharedMaxP);
  if (K <= 1024 && nseg * K <= kSharedMaxP) {
    const int M = static_cast<int>(nseg * K);
    int P2 = 1;
    while (P2 < M) P2 <<= 1;
    Scratch ckey, cidx;
    XHAL_CUDA_TRY(ckey.alloc(call, sizeof(C) * static_cast<uint64_t>(lines) * M));
    XHAL_CUDA_TRY(cidx.alloc(call, sizeof(int) * static_cast<uint64_t>(lines) * M));
    const size_t smem1 = keys_bytes(sizeof(C), kSharedMaxP) + sizeof(int) * kSharedMaxP;
    topk_segments_kernel<kLargest, T><<<red::blocks_for(lines * nseg), 512, smem1, call.stream>>>(
        x, O, Li, I, kSharedMaxP, kSharedMaxP, static_cast<int>(nseg), K, ckey.as<C>(),
        cidx.as<int>());
    XHAL_CUDA_TRY(check_launch(call, "top_k (segment sort)"));
    const int threads2 = P2 / 2 < 32 ? 32 : (P2 / 2 > 512 ? 512 : P2 / 2);
    const size_t smem2 = keys_bytes(sizeof(C), P2) + sizeof(int) * static_cast<size_t>(P2);
    topk_merge_kernel<kLargest, T><<<red::blocks_for(lines), threads2, smem2, call.stream>>>(
        x, O, Li, I, M, P2, K, ckey.as<const C>(), cidx.as<const int>(), vals, inds);
    return check_launch(call, "top_k (merge)");
  }
  Scratch keys, idx;
  XHAL_CUDA_TRY(keys.alloc(call, sizeof(C) * static_cast<uint64_t>(lines) * P));
  XHAL_CUDA_TRY(idx.alloc(call, sizeof(int) * static_cast<uint64_t>(lines) * P));
  topk_init_kernel<T><<<grid_for(lines * P), 256, 0, call.stream>>>(x, O, Li, I, P, keys.as<C>(),
                                                                     idx.as<int>());
  XHAL_CUDA_TRY(check_launch(call, "top_k (init)"));
  for (int k = 2; k <= P; k <<= 1)
    for (int j = k >> 1; j > 0; j >>= 1) {
      topk_step_kernel<kLargest, C><<<grid_for(lines * P), 256, 0, call.stream>>>(
          lines, Li, P, k, j, keys.as<C>(), idx.as<int>());
      XHAL_CUDA_TRY(check_launch(call, "top_k (sort step)"));
    }
  topk_gather_kernel<T><<<grid_for(lines * K), 256, 0, call.stream>>>(x, O, Li, I, P, K,
                                                                       idx.as<int>(), vals, inds);
  return check_launch(call, "top_k (gather)");
}

template <class T>
xhal_status_t top_k_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                           const xhal_tensor_t* K_t, const xhal_top_k_v1_attrs_t* attrs,
                           xhal_tensor_t* Values, xhal_tensor_t* Indices) noexcept {
  return guarded("top_k", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("top_k", ctx, &call));
    constexpr int32_t dt = dtype_of<T>();
    XHAL_CUDA_TRY(check_tensor(call, "input X", X, dt));
    XHAL_CUDA_TRY(check_host_tensor(call, "input K", K_t, XHAL_DTYPE_INT64));
    XHAL_CUDA_TRY(check_tensor(call, "output Values", Values, dt));
    XHAL_CUDA_TRY(check_tensor(call, "output Indices", Indices, XHAL_DTYPE_INT64));
    if (attrs == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "top_k: attributes are NULL");
    if ((attrs->largest != 0 && attrs->largest != 1) || (attrs->sorted != 0 && attrs->sorted != 1))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "top_k: largest (%lld) and sorted (%lld) must be 0 or 1",
                  static_cast<long long>(attrs->largest), static_cast<long long>(attrs->sorted));
    const Shape dx = shape_of(X);
    const int axis = red::normalize_axis(attrs->axis, dx.rank);
    if (axis < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "top_k: axis %lld is out of range for X %s",
                  static_cast<long long>(attrs->axis), to_string(dx).c_str());
    if (K_t->ndim != 1 || shape_of(K_t).numel() != 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "top_k: K must be 1-D with one element, got shape %s",
                  to_string(shape_of(K_t)).c_str());
    int64_t K = 0;
    read_host_ints(K_t, &K, 1);
    if (K < 0 || K > dx[axis])
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "top_k: K=%lld is out of range [0, %lld] for X %s",
                  static_cast<long long>(K), static_cast<long long>(dx[axis]),
                  to_string(dx).c_str());
    Shape expect = dx;
    expect[axis] = K;
    XHAL_CUDA_TRY(check_shape(call, "output Values", Values, expect));
    XHAL_CUDA_TRY(check_shape(call, "output Indices", Indices, expect));
    if (expect.numel() == 0) return XHAL_OK;
    if (dx[axis] >= INT_MAX / 2)
      return fail(XHAL_ERROR_UNSUPPORTED, "top_k: axis length %lld is too long (max %d)",
                  static_cast<long long>(dx[axis]), INT_MAX / 2 - 1);
    const red::AxisView v = red::axis_view(dx, axis);
    CompactInput cx;
    XHAL_CUDA_TRY(cx.init(call, X));
    T* vals = data_as<T>(Values);
    int64_t* inds = data_as<int64_t>(Indices);
    if (attrs->largest)
      return run<true>(call, cx.as<T>(), v.outer, v.len, v.inner, K, vals, inds);
    return run<false>(call, cx.as<T>(), v.outer, v.len, v.inner, K, vals, inds);
  });
}

template <class T>
xhal_status_t register_one(const xhal_host_api_t* h, xhal_registry_t r) {
  return xhal_register_top_k_v1(h, r, top_k_kernel<T>, dtype_of<T>(),
                                XHAL_KERNEL_FLAG_STRIDED_INPUTS, "cuda.top_k");
}

xhal_status_t register_topk_family(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CUDA_TRY(register_one<float>(h, r));
  XHAL_CUDA_TRY(register_one<double>(h, r));
  XHAL_CUDA_TRY(register_one<__half>(h, r));
  XHAL_CUDA_TRY(register_one<__nv_bfloat16>(h, r));
  XHAL_CUDA_TRY(register_one<int8_t>(h, r));
  XHAL_CUDA_TRY(register_one<uint8_t>(h, r));
  XHAL_CUDA_TRY(register_one<int32_t>(h, r));
  return register_one<int64_t>(h, r);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(topk, register_topk_family);

}  // namespace xhal_cuda
