// The elementwise engine every elementwise family file builds on (binary*.cu, compare.cu,
// logic.cu, where.cu, unary.cu, activation.cu, clip.cu, cast.cu).
//
// How: an op is a device functor over compute types (acc_t: float for float16/bfloat16, the
// type itself otherwise). map<Out, In...>() checks nothing itself; it takes the output tensor,
// the output shape and the input tensors, builds one stride set per operand broadcast to the
// output shape (stride 0 along broadcast axes, NumPy multidirectional rules), merges the
// dimensions that are contiguous for every operand (make_offsets, indexing.cuh) and launches
// one of two grid-stride kernels:
//   - contiguous: every operand (output included) steps by one element: plain linear index;
//   - strided: the linear output index is split into coordinates (32-bit division whenever the
//     output has fewer than 2^32 elements) and dotted with each operand's strides.
// Each element is loaded, converted to the compute type, computed and stored rounded once.
// Kernels that need something the functor form cannot express (pow's exponent of any dtype)
// pass their own body to launch<N>(): a device callable taking the N element offsets.
//
// Deliberately not done: vectorised (128-bit) loads, and 2-D tiling of transposed operands;
// the kernels are memory bound and coalesced on the output, which is what matters most.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "dtypes.cuh"
#include "indexing.cuh"
#include "support.h"

namespace xhal_cuda {
namespace ew {

// ---- element access and integer arithmetic ------------------------------------------------------

// Storage element -> compute type (float for the 16-bit floats).
template <class T>
__device__ __forceinline__ acc_t<T> load(const T* p) {
  return convert<acc_t<T>>(*p);
}

// Two's complement wrap-around without signed overflow: through the unsigned type.
template <class T>
__device__ __forceinline__ T wrap_add(T a, T b) {
  using U = typename std::make_unsigned<T>::type;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
}
template <class T>
__device__ __forceinline__ T wrap_sub(T a, T b) {
  using U = typename std::make_unsigned<T>::type;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
}
template <class T>
__device__ __forceinline__ T wrap_mul(T a, T b) {
  using U = typename std::make_unsigned<T>::type;
  // In uint64 (never promoted to a signed int, so no overflow UB), truncated to T's width.
  return static_cast<T>(static_cast<U>(static_cast<uint64_t>(static_cast<U>(a)) *
                                       static_cast<uint64_t>(static_cast<U>(b))));
}
template <class T>
__device__ __forceinline__ T wrap_neg(T a) {
  return wrap_sub(T(0), a);
}

// Integer type that is not bool.
template <class V>
constexpr bool is_int = std::is_integral<V>::value && !std::is_same<V, bool>::value;

// ---- host side: attributes, shapes, strides ----------------------------------------------------

// NumPy broadcast of two shapes; false when they do not broadcast.
inline bool broadcast2(const Shape& a, const Shape& b, Shape* out) {
  const int r = a.rank > b.rank ? a.rank : b.rank;
  Shape s;
  s.rank = r;
  for (int i = 0; i < r; ++i) {
    const int ia = i - (r - a.rank), ib = i - (r - b.rank);
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1) return false;
    s.d[i] = da == 1 ? db : da;
  }
  *out = s;
  return true;
}

// t's element strides as seen from `out` (t broadcasts to out, rank t <= rank out): 0 along
// the leading axes t lacks and along its size-1 axes.
inline void broadcast_strides(const xhal_tensor_t* t, const Shape& out, int64_t* st) {
  int64_t own[kMaxRank];
  strides_of(t, own);
  const int lead = out.rank - t->ndim;
  for (int i = 0; i < out.rank; ++i)
    st[i] = (i < lead || t->shape[i - lead] == 1) ? 0 : own[i - lead];
}

// ---- device side: the two launch shapes ---------------------------------------------------------

// #pragma unroll in code that is also compiled for the host (where gcc warns about it).
#if defined(__CUDA_ARCH__)
#define XHAL_EW_UNROLL _Pragma("unroll")
#else
#define XHAL_EW_UNROLL
#endif

// Element offsets of output position `linear` for every operand (host and device, so that the
// indexing can be checked on a machine without a GPU). `narrow`: the output has fewer than
// 2^32 elements, so every size and position fits 32-bit division.
template <int N>
__host__ __device__ __forceinline__ void offsets_at(const Offsets<N>& o, int64_t linear,
                                                    bool narrow, int64_t (&off)[N]) {
  XHAL_EW_UNROLL
  for (int a = 0; a < N; ++a) off[a] = 0;
  for (int d = o.rank - 1; d > 0; --d) {
    int64_t i;
    if (narrow) {
      const uint32_t l = static_cast<uint32_t>(linear), s = static_cast<uint32_t>(o.sizes[d]);
      const uint32_t q = l / s;
      i = l - q * s;
      linear = q;
    } else {
      const int64_t q = linear / o.sizes[d];
      i = linear - q * o.sizes[d];
      linear = q;
    }
    XHAL_EW_UNROLL
    for (int a = 0; a < N; ++a) off[a] += i * o.strides[a][d];
  }
  if (o.rank > 0) {
    XHAL_EW_UNROLL
    for (int a = 0; a < N; ++a) off[a] += linear * o.strides[a][0];
  }
}

template <int N, class Body>
__global__ void contiguous_kernel(Body body, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[N];
#pragma unroll
    for (int a = 0; a < N; ++a) off[a] = i;
    body(off);
  }
}

template <int N, class Body>
__global__ void strided_kernel(Body body, Offsets<N> o, int64_t n, bool narrow) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[N];
    offsets_at<N>(o, i, narrow, off);
    body(off);
  }
}

// Runs body(off) for every position of `shape`, off[a] being operand a's element offset under
// strides[a] (shape.rank entries each; operand 0 is by convention the output).
template <int N, class Body>
xhal_status_t launch(const Call& call, const char* what, const Body& body, const Shape& shape,
                     const int64_t* const (&strides)[N]) {
  const int64_t n = shape.numel();
  if (n == 0) return XHAL_OK;
  Offsets<N> o;
  XHAL_CUDA_TRY(make_offsets<N>(call, shape, strides, &o));
  bool contiguous = o.rank == 0;
  if (o.rank == 1) {
    contiguous = true;
    for (int a = 0; a < N; ++a) contiguous = contiguous && o.strides[a][0] == 1;
  }
  if (contiguous)
    contiguous_kernel<N, Body><<<grid_for(n), 256, 0, call.stream>>>(body, n);
  else
    strided_kernel<N, Body><<<grid_for(n), 256, 0, call.stream>>>(
        body, o, n, n <= static_cast<int64_t>(UINT32_MAX));
  return check_launch(call, what);
}

// out = f(in...) elementwise: loads convert to the compute type, the result converts to Out.
template <class F, class Out, class... In>
struct MapBody {
  static constexpr int N = sizeof...(In) + 1;
  F f;
  Out* out;
  const void* in[sizeof...(In)];

  __device__ __forceinline__ void operator()(const int64_t (&off)[N]) const {
    apply(off, std::index_sequence_for<In...>{});
  }
  template <size_t... I>
  __device__ __forceinline__ void apply(const int64_t (&off)[N], std::index_sequence<I...>) const {
    out[off[0]] = convert<Out>(f(load(static_cast<const In*>(in[I]) + off[I + 1])...));
  }
};

// Y (shape `shape`, dtype Out) = f(X[0], X[1], ...) with every X broadcast to `shape`. The
// caller has checked dtypes and that the shapes broadcast to `shape` == Y's shape.
template <class Out, class... In, class F>
xhal_status_t map(const Call& call, const char* what, const F& f, xhal_tensor_t* Y,
                  const Shape& shape, const xhal_tensor_t* const (&X)[sizeof...(In)]) {
  constexpr int N = sizeof...(In) + 1;
  if (shape.numel() == 0) return XHAL_OK;
  int64_t st[N][kMaxRank];
  const int64_t* strides[N];
  strides_of(Y, st[0]);
  strides[0] = st[0];
  MapBody<F, Out, In...> body;
  body.f = f;
  body.out = data_as<Out>(Y);
  for (int k = 0; k < N - 1; ++k) {
    broadcast_strides(X[k], shape, st[k + 1]);
    strides[k + 1] = st[k + 1];
    body.in[k] = data_as<const char>(X[k]);
  }
  return launch<N>(call, what, body, shape, strides);
}

// ---- checked entry helpers ----------------------------------------------------------------------

// Y = f(X), same shape; X of TX, Y of TY.
template <class TX, class TY, class F>
xhal_status_t unary(const Call& call, const F& f, const xhal_tensor_t* X, xhal_tensor_t* Y) {
  XHAL_CUDA_TRY(check_tensor(call, "input X", X, dtype_of<TX>()));
  XHAL_CUDA_TRY(check_tensor(call, "output Y", Y, dtype_of<TY>()));
  const Shape s = shape_of(X);
  XHAL_CUDA_TRY(check_shape(call, "output Y", Y, s));
  return map<TY, TX>(call, call.op, f, Y, s, {X});
}

// Names of a binary op's operands, for messages ("input A", ...).
struct Roles2 {
  const char* a;
  const char* b;
  const char* out;
};
constexpr Roles2 kRolesABC{"input A", "input B", "output C"};

// C = f(A, B) broadcast; A of TA, B of TB, C of TC.
template <class TA, class TB, class TC, class F>
xhal_status_t binary(const Call& call, const F& f, const xhal_tensor_t* A,
                     const xhal_tensor_t* B, xhal_tensor_t* C, const Roles2& r = kRolesABC) {
  XHAL_CUDA_TRY(check_tensor(call, r.a, A, dtype_of<TA>()));
  XHAL_CUDA_TRY(check_tensor(call, r.b, B, dtype_of<TB>()));
  XHAL_CUDA_TRY(check_tensor(call, r.out, C, dtype_of<TC>()));
  const Shape sa = shape_of(A), sb = shape_of(B);
  Shape s;
  if (!broadcast2(sa, sb, &s))
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s %s and %s %s do not broadcast", call.op, r.a,
                to_string(sa).c_str(), r.b, to_string(sb).c_str());
  XHAL_CUDA_TRY(check_shape(call, r.out, C, s));
  return map<TC, TA, TB>(call, call.op, f, C, s, {A, B});
}

}  // namespace ew
}  // namespace xhal_cuda
