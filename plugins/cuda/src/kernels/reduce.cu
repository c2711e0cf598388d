// reduce_sum, reduce_mean, reduce_max, reduce_min and reduce_prod (ONNX ReduceSum-13,
// ReduceMean-18, ReduceMax-20, ReduceMin-20, ReduceProd-18) over the axes of the optional
// host-memory int64 `axes` input (negative axes count from the back; absent or empty means
// every axis, or the identity when noop_with_empty_axes is 1), keeping reduced axes as size 1
// when keepdims is 1. Semantics follow the CPU plugin (reduce_common.h, reduce_policies.h).
//
// How: size-1 axes are dropped and neighbouring axes of the same kind merged. The innermost
// group of reduced axes is reduced first, the (compact) input viewed as [O, R, I], into a
// buffer of accumulators; each further reduced group is one more pass over that (smaller)
// buffer, and the last pass finishes into the output. Each pass is one kernel templated on an
// accumulation policy:
//   I == 1: rows; a warp per row for short rows, a block per row otherwise (16-byte loads
//           when aligned);
//   I >  1: 32-column tiles, eight thread rows splitting R, combined in shared memory.
// When there are few outputs and long reductions, R is split into chunks whose partial
// accumulators go to a scratch and are combined by a second pass of the same kernel, so the
// result never depends on scheduling.
// Accumulators: float32 -> float64, float16/bfloat16 -> float32, float64 -> float64, integers
// in the unsigned type of their width (wrapping; mean sums in uint64 and truncates toward zero);
// max/min compare in float for the 16-bit floats, and a NaN wins once seen.
// Not done: tree sums are not pairwise-exact (the float64 accumulator makes float32 sums exact
// enough); vectorised loads only for long contiguous rows.
#include <cfloat>
#include <climits>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "dtypes.cuh"
#include "reduce_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

using red::ceil_div;

// ---- Accumulation policies ----------------------------------------------------------------------
// Sum/product accumulator: wider floats, unsigned integers of the same width.
template <class T> struct WideAcc { using type = std::make_unsigned_t<T>; };
template <> struct WideAcc<float> { using type = double; };
template <> struct WideAcc<double> { using type = double; };
template <> struct WideAcc<__half> { using type = float; };
template <> struct WideAcc<__nv_bfloat16> { using type = float; };

template <class T>
struct SumP {
  using Acc = typename WideAcc<T>::type;
  static __device__ __forceinline__ Acc identity() { return Acc(0); }
  __device__ __forceinline__ Acc operator()(Acc a, Acc b) const { return a + b; }
  static __device__ __forceinline__ T finish(Acc a, int64_t) { return convert<T>(a); }
  static __device__ __forceinline__ T empty() { return convert<T>(Acc(0)); }
};

template <class T>
struct ProdP {
  using Acc = typename WideAcc<T>::type;
  static __device__ __forceinline__ Acc identity() { return Acc(1); }
  __device__ __forceinline__ Acc operator()(Acc a, Acc b) const { return static_cast<Acc>(a * b); }
  static __device__ __forceinline__ T finish(Acc a, int64_t) { return convert<T>(a); }
  static __device__ __forceinline__ T empty() { return convert<T>(Acc(1)); }
};

template <class T>
struct MeanP {
  static constexpr bool kInt = std::is_integral<T>::value;
  using Acc = std::conditional_t<kInt, uint64_t, typename WideAcc<T>::type>;
  static __device__ __forceinline__ Acc identity() { return Acc(0); }
  __device__ __forceinline__ Acc operator()(Acc a, Acc b) const { return a + b; }
  static __device__ __forceinline__ T finish(Acc a, int64_t n) {
    if constexpr (kInt)
      return static_cast<T>(static_cast<int64_t>(a) / n);
    else
      return convert<T>(a / static_cast<Acc>(n));
  }
  static __device__ __forceinline__ T empty() {
    if constexpr (kInt)
      return T(0);
    else
      return convert<T>(static_cast<Acc>(NAN));
  }
};

template <class T, bool kMax>
struct ExtremeP {
  using Acc = acc_t<T>;  // float for the 16-bit floats, else T
  static constexpr bool kFloat = std::is_floating_point<Acc>::value;
  static __device__ __forceinline__ Acc identity() {
    if constexpr (kFloat) {
      return kMax ? -static_cast<Acc>(INFINITY) : static_cast<Acc>(INFINITY);
    } else if constexpr (std::is_same<Acc, bool>::value) {
      return !kMax;
    } else {
      return kMax ? std::numeric_limits<Acc>::lowest() : std::numeric_limits<Acc>::max();
    }
  }
  __device__ __forceinline__ Acc operator()(Acc a, Acc b) const {
    if constexpr (kFloat) {
      const bool take = (kMax ? b > a : b < a) || b != b;  // a NaN `a` stays: nothing beats it
      return take ? b : a;
    } else {
      return (kMax ? b > a : b < a) ? b : a;
    }
  }
  static __device__ __forceinline__ T finish(Acc a, int64_t) { return convert<T>(a); }
  static __device__ __forceinline__ T empty() { return convert<T>(identity()); }
};

// ---- Stores: final outputs (finish) or partial accumulators -------------------------------------
template <class P, class T>
struct StoreFinal {
  T* y;
  int64_t count;
  __device__ __forceinline__ void operator()(int64_t i, typename P::Acc a) const {
    y[i] = P::finish(a, count);
  }
};

template <class Acc>
struct StorePartial {
  Acc* y;
  __device__ __forceinline__ void operator()(int64_t i, Acc a) const { y[i] = a; }
};

template <class Acc, class In>
__device__ __forceinline__ Acc load_acc(In v) {
  if constexpr (std::is_same<In, Acc>::value)
    return v;
  else
    return convert<Acc>(v);
}

// ---- Kernels ------------------------------------------------------------------------------------
// Rows [O, R] split into `chunks` pieces of `piece` elements; unit u = row * chunks + c writes
// store(u, ...). A warp per unit.
template <class P, class In, class Store>
__global__ void rows_warp_kernel(const In* x, int64_t O, int64_t R, int64_t chunks,
                                 int64_t piece, Store store) {
  using Acc = typename P::Acc;
  const P combine{};
  const int lane = threadIdx.x & 31;
  const int64_t warps_per_block = blockDim.x >> 5;
  const int64_t units = O * chunks;
  for (int64_t u = blockIdx.x * warps_per_block + (threadIdx.x >> 5); u < units;
       u += int64_t(gridDim.x) * warps_per_block) {
    const int64_t row = u / chunks, c = u % chunks;
    const int64_t b = c * piece, e = b + piece < R ? b + piece : R;
    const In* xr = x + row * R;
    Acc acc = P::identity();
    for (int64_t i = b + lane; i < e; i += 32) acc = combine(acc, load_acc<Acc>(xr[i]));
    acc = red::warp_all(acc, combine);
    if (lane == 0) store(u, acc);
  }
}

// The same with a block per unit; kVec: 16-byte loads (x 16-byte aligned, and R and piece
// multiples of 16 / sizeof(In)).
template <class P, class In, bool kVec, class Store>
__global__ void rows_block_kernel(const In* x, int64_t O, int64_t R, int64_t chunks,
                                  int64_t piece, Store store) {
  using Acc = typename P::Acc;
  constexpr int V = kVec ? 16 / sizeof(In) : 1;
  const P combine{};
  const int64_t units = O * chunks;
  for (int64_t u = blockIdx.x; u < units; u += gridDim.x) {
    const int64_t row = u / chunks, c = u % chunks;
    const int64_t b = c * piece, e = b + piece < R ? b + piece : R;
    const In* xr = x + row * R;
    Acc acc = P::identity();
    for (int64_t i = b + int64_t(threadIdx.x) * V; i < e; i += int64_t(blockDim.x) * V) {
      Acc v[V];
      red::load_vec<V>(xr + i, v);
#pragma unroll
      for (int k = 0; k < V; ++k) acc = combine(acc, v[k]);
    }
    acc = red::block_all(acc, combine);
    if (threadIdx.x == 0) store(u, acc);
  }
}

// Columns of [O, R, I]: 32-column tiles (threadIdx.x), kColRows thread rows splitting R
// (threadIdx.y); R further split into `chunks` pieces (blockIdx.y). Output index
// (o * chunks + c) * I + i.
constexpr int kColRows = 8;

template <class P, class In, class Store>
__global__ void cols_kernel(const In* x, int64_t O, int64_t R, int64_t I, int64_t chunks,
                            int64_t piece, Store store) {
  using Acc = typename P::Acc;
  const P combine{};
  __shared__ Acc part[kColRows][33];
  const int64_t tiles_per_o = ceil_div(I, 32), tiles = O * tiles_per_o;
  const int64_t c = blockIdx.y;
  const int64_t b = c * piece, e = b + piece < R ? b + piece : R;
  for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    const int64_t o = t / tiles_per_o, col = (t % tiles_per_o) * 32 + threadIdx.x;
    Acc acc = P::identity();
    if (col < I) {
      const In* xc = x + o * R * I + col;
      for (int64_t r = b + threadIdx.y; r < e; r += kColRows)
        acc = combine(acc, load_acc<Acc>(xc[r * I]));
    }
    part[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && col < I) {
      Acc s = part[0][threadIdx.x];
#pragma unroll
      for (int k = 1; k < kColRows; ++k) s = combine(s, part[k][threadIdx.x]);
      store((o * chunks + c) * I + col, s);
    }
    __syncthreads();
  }
}

template <class T, class V>
__global__ void fill_kernel(T* y, int64_t n, V v) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    y[i] = v;
}

template <class P, class T>
__global__ void empty_kernel(T* y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    y[i] = P::empty();
}

constexpr int64_t kWarpRowMax = 512;   // rows up to this length: a warp per row
constexpr int64_t kTargetUnits = 1024; // enough blocks (or warps) to fill the GPU a few times

// Rows [O, R] of In -> store, one pass.
template <class P, class In, class Store>
xhal_status_t launch_rows(const Call& call, const In* x, int64_t O, int64_t R, int64_t chunks,
                          Store store) {
  constexpr int64_t V = 16 / sizeof(In);
  int64_t piece = ceil_div(R, chunks);
  if (piece <= kWarpRowMax) {
    const int64_t units = O * chunks;
    rows_warp_kernel<P, In><<<red::blocks_for(ceil_div(units, 8)), 256, 0, call.stream>>>(
        x, O, R, chunks, piece, store);
  } else if (red::aligned16(x) && R % V == 0) {
    piece = ceil_div(piece, V) * V;  // chunks past the row's end reduce nothing
    rows_block_kernel<P, In, true><<<red::blocks_for(O * chunks), 256, 0, call.stream>>>(
        x, O, R, chunks, piece, store);
  } else {
    rows_block_kernel<P, In, false><<<red::blocks_for(O * chunks), 256, 0, call.stream>>>(
        x, O, R, chunks, piece, store);
  }
  return check_launch(call, "row reduction");
}

template <class P, class In, class Store>
xhal_status_t launch_cols(const Call& call, const In* x, int64_t O, int64_t R, int64_t I,
                          int64_t chunks, Store store) {
  const int64_t piece = ceil_div(R, chunks);
  const dim3 grid(red::blocks_for(O * ceil_div(I, 32)), static_cast<unsigned>(chunks));
  cols_kernel<P, In><<<grid, dim3(32, kColRows), 0, call.stream>>>(x, O, R, I, chunks, piece,
                                                                    store);
  return check_launch(call, "column reduction");
}

// store(o * I + i, combine over r of x[o, r, i]) for compact x of shape [O, R, I], R >= 1.
// Few long reductions are split into chunks whose partials a second pass combines.
template <class P, class In, class Store>
xhal_status_t reduce_pass(const Call& call, const In* x, int64_t O, int64_t R, int64_t I,
                          Store store) {
  using Acc = typename P::Acc;
  if (I == 1) {
    int64_t chunks = 1;  // pieces of at least 4096
    if (O < kTargetUnits && R >= 8192)
      chunks = std::min<int64_t>({ceil_div(R, 4096), ceil_div(kTargetUnits, O), 1024});
    if (chunks == 1) return launch_rows<P>(call, x, O, R, 1, store);
    Scratch partial;
    XHAL_CUDA_TRY(partial.alloc(call, sizeof(Acc) * O * chunks));
    XHAL_CUDA_TRY(launch_rows<P>(call, x, O, R, chunks, StorePartial<Acc>{partial.as<Acc>()}));
    return launch_rows<P>(call, partial.as<const Acc>(), O, chunks, 1, store);
  }
  const int64_t tiles = O * ceil_div(I, 32);
  int64_t chunks = 1;
  if (tiles < kTargetUnits && R >= 512)
    chunks = std::min<int64_t>({ceil_div(R, 256), ceil_div(kTargetUnits, tiles), 1024});
  if (chunks == 1) return launch_cols<P>(call, x, O, R, I, 1, store);
  Scratch partial;  // [O, chunks, I]
  XHAL_CUDA_TRY(partial.alloc(call, sizeof(Acc) * O * chunks * I));
  XHAL_CUDA_TRY(launch_cols<P>(call, x, O, R, I, chunks, StorePartial<Acc>{partial.as<Acc>()}));
  return launch_cols<P>(call, partial.as<const Acc>(), O, chunks, I, 1, store);
}

// Reduces the compact input of shape `gsize` (groups of merged axes, none of size 1; `gred`
// marks the reduced ones) into y: the innermost reduced group first, as [O, R, I], into a
// compact accumulator buffer (kept groups that become neighbours merge), then the next, reading
// that buffer, and so on; the last pass finishes into y. Later passes read only accumulators,
// so the input is read once and never copied.
template <class P, class T>
xhal_status_t reduce_groups(const Call& call, const T* x, int64_t* gsize, bool* gred,
                            int groups, T* y, int64_t count) {
  using Acc = typename P::Acc;
  const StoreFinal<P, T> final_store{y, count};
  int left = 0;
  for (int g = 0; g < groups; ++g) left += gred[g] ? 1 : 0;
  if (left == 0) {  // only size-1 axes are reduced: one element per output
    int64_t n = 1;
    for (int g = 0; g < groups; ++g) n *= gsize[g];
    return reduce_pass<P>(call, x, n, 1, 1, final_store);
  }
  const Acc* cur = nullptr;  // accumulators of the previous pass (nullptr: read x)
  Scratch bufs[2];
  int which = 0;
  for (; left > 0; --left) {
    int g = groups - 1;
    while (!gred[g]) --g;
    int64_t O = 1, I = 1;
    for (int k = 0; k < g; ++k) O *= gsize[k];
    for (int k = g + 1; k < groups; ++k) I *= gsize[k];
    const int64_t R = gsize[g];
    if (left == 1) {
      return cur == nullptr ? reduce_pass<P>(call, x, O, R, I, final_store)
                            : reduce_pass<P>(call, cur, O, R, I, final_store);
    }
    Scratch& out = bufs[which];
    which ^= 1;
    XHAL_CUDA_TRY(out.alloc(call, sizeof(Acc) * O * I));
    const StorePartial<Acc> partial{out.as<Acc>()};
    if (cur == nullptr)
      XHAL_CUDA_TRY(reduce_pass<P>(call, x, O, R, I, partial));
    else
      XHAL_CUDA_TRY(reduce_pass<P>(call, cur, O, R, I, partial));
    cur = out.as<const Acc>();
    // Drop group g; its kept neighbours become one group.
    for (int k = g; k + 1 < groups; ++k) {
      gsize[k] = gsize[k + 1];
      gred[k] = gred[k + 1];
    }
    --groups;
    if (g > 0 && g < groups && !gred[g - 1] && !gred[g]) {
      gsize[g - 1] *= gsize[g];
      for (int k = g; k + 1 < groups; ++k) {
        gsize[k] = gsize[k + 1];
        gred[k] = gred[k + 1];
      }
      --groups;
    }
  }
  return XHAL_OK;  // not reached: the last pass returns
}

// ---- The kernel entry point shared by the five ops -------------------------------------------
template <class P, class T, class Attrs>
xhal_status_t reduce_kernel(const char* op, const xhal_kernel_context_t* ctx,
                            const xhal_tensor_t* data, const xhal_tensor_t* axes,
                            const Attrs* attrs, xhal_tensor_t* reduced) {
  return guarded(op, [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call(op, ctx, &call));
    constexpr int32_t dt = dtype_of<T>();
    XHAL_CUDA_TRY(check_tensor(call, "input data", data, dt));
    if (axes != nullptr)
      XHAL_CUDA_TRY(check_host_tensor(call, "input axes", axes, XHAL_DTYPE_INT64));
    XHAL_CUDA_TRY(check_tensor(call, "output reduced", reduced, dt));
    if (attrs == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: attributes are NULL", op);
    const int64_t keepdims = attrs->keepdims, noop = attrs->noop_with_empty_axes;
    if ((keepdims != 0 && keepdims != 1) || (noop != 0 && noop != 1))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "%s: keepdims (%lld) and noop_with_empty_axes (%lld) must be 0 or 1", op,
                  static_cast<long long>(keepdims), static_cast<long long>(noop));
    const Shape dx = shape_of(data);
    bool red_axis[kMaxRank] = {};
    int64_t num_axes = 0;
    if (axes != nullptr) {
      if (axes->ndim > 1)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: axes must be 1-D, got shape %s", op,
                    to_string(shape_of(axes)).c_str());
      num_axes = shape_of(axes).numel();
      std::unique_ptr<int64_t[]> list(new int64_t[num_axes > 0 ? num_axes : 1]);
      read_host_ints(axes, list.get(), num_axes);
      for (int64_t i = 0; i < num_axes; ++i) {
        const int a = red::normalize_axis(list[i], dx.rank);
        if (a < 0)
          return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: axis %lld is out of range for data %s",
                      op, static_cast<long long>(list[i]), to_string(dx).c_str());
        if (red_axis[a])
          return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: axis %lld is listed twice", op,
                      static_cast<long long>(list[i]));
        red_axis[a] = true;
      }
    }
    const bool identity = num_axes == 0 && noop == 1;
    if (num_axes == 0 && !identity)
      for (int i = 0; i < dx.rank; ++i) red_axis[i] = true;
    Shape expect;
    int64_t count = 1;
    for (int i = 0; i < dx.rank; ++i) {
      if (!red_axis[i]) {
        expect.push_back(dx[i]);
      } else {
        count *= dx[i];
        if (keepdims) expect.push_back(1);
      }
    }
    XHAL_CUDA_TRY(check_shape(call, "output reduced", reduced, expect));
    const int64_t n_out = expect.numel();
    if (n_out == 0) return XHAL_OK;
    T* y = data_as<T>(reduced);
    int64_t x_strides[kMaxRank];
    strides_of(data, x_strides);
    if (identity) {  // a copy (the input may be strided)
      int64_t y_strides[kMaxRank];
      compact_strides(dx, y_strides);
      return copy_strided(call, dx, data_as<const T>(data), x_strides, y, y_strides, sizeof(T));
    }
    if (count == 0) {  // a reduction over nothing
      empty_kernel<P, T><<<grid_for(n_out), 256, 0, call.stream>>>(y, n_out);
      return check_launch(call, "empty reduction");
    }
    // Groups of neighbouring non-1 axes of the same kind.
    int64_t gsize[kMaxRank];
    bool gred[kMaxRank];
    int groups = 0;
    for (int i = 0; i < dx.rank; ++i) {
      if (dx[i] == 1) continue;
      if (groups > 0 && gred[groups - 1] == red_axis[i]) {
        gsize[groups - 1] *= dx[i];
      } else {
        gsize[groups] = dx[i];
        gred[groups] = red_axis[i];
        ++groups;
      }
    }
    CompactInput cx;
    XHAL_CUDA_TRY(cx.init(call, data));
    return reduce_groups<P>(call, cx.as<T>(), gsize, gred, groups, y, count);
  });
}

template <class T>
xhal_status_t reduce_sum_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                                const xhal_tensor_t* axes, const xhal_reduce_sum_v1_attrs_t* attrs,
                                xhal_tensor_t* reduced) noexcept {
  return reduce_kernel<SumP<T>, T>("reduce_sum", ctx, data, axes, attrs, reduced);
}
template <class T>
xhal_status_t reduce_mean_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                                 const xhal_tensor_t* axes,
                                 const xhal_reduce_mean_v1_attrs_t* attrs,
                                 xhal_tensor_t* reduced) noexcept {
  return reduce_kernel<MeanP<T>, T>("reduce_mean", ctx, data, axes, attrs, reduced);
}
template <class T>
xhal_status_t reduce_prod_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                                 const xhal_tensor_t* axes,
                                 const xhal_reduce_prod_v1_attrs_t* attrs,
                                 xhal_tensor_t* reduced) noexcept {
  return reduce_kernel<ProdP<T>, T>("reduce_prod", ctx, data, axes, attrs, reduced);
}
template <class T>
xhal_status_t reduce_max_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                                const xhal_tensor_t* axes, const xhal_reduce_max_v1_attrs_t* attrs,
                                xhal_tensor_t* reduced) noexcept {
  return reduce_kernel<ExtremeP<T, true>, T>("reduce_max", ctx, data, axes, attrs, reduced);
}
template <class T>
xhal_status_t reduce_min_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                                const xhal_tensor_t* axes, const xhal_reduce_min_v1_attrs_t* attrs,
                                xhal_tensor_t* reduced) noexcept {
  return reduce_kernel<ExtremeP<T, false>, T>("reduce_min", ctx, data, axes, attrs, reduced);
}

constexpr uint32_t kFlags = XHAL_KERNEL_FLAG_STRIDED_INPUTS;

// sum, mean, prod: float32, float64, float16, bfloat16, int32, int64.
template <class T>
xhal_status_t register_numeric(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = dtype_of<T>();
  XHAL_CUDA_TRY(
      xhal_register_reduce_sum_v1(h, r, reduce_sum_kernel<T>, dt, kFlags, "cuda.reduce_sum"));
  XHAL_CUDA_TRY(
      xhal_register_reduce_mean_v1(h, r, reduce_mean_kernel<T>, dt, kFlags, "cuda.reduce_mean"));
  return xhal_register_reduce_prod_v1(h, r, reduce_prod_kernel<T>, dt, kFlags, "cuda.reduce_prod");
}

// max, min: those plus int8, uint8, bool.
template <class T>
xhal_status_t register_extreme(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = dtype_of<T>();
  XHAL_CUDA_TRY(
      xhal_register_reduce_max_v1(h, r, reduce_max_kernel<T>, dt, kFlags, "cuda.reduce_max"));
  return xhal_register_reduce_min_v1(h, r, reduce_min_kernel<T>, dt, kFlags, "cuda.reduce_min");
}

xhal_status_t register_reduce_family(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CUDA_TRY(register_numeric<float>(h, r));
  XHAL_CUDA_TRY(register_numeric<double>(h, r));
  XHAL_CUDA_TRY(register_numeric<__half>(h, r));
  XHAL_CUDA_TRY(register_numeric<__nv_bfloat16>(h, r));
  XHAL_CUDA_TRY(register_numeric<int32_t>(h, r));
  XHAL_CUDA_TRY(register_numeric<int64_t>(h, r));
  XHAL_CUDA_TRY(register_extreme<float>(h, r));
  XHAL_CUDA_TRY(register_extreme<double>(h, r));
  XHAL_CUDA_TRY(register_extreme<__half>(h, r));
  XHAL_CUDA_TRY(register_extreme<__nv_bfloat16>(h, r));
  XHAL_CUDA_TRY(register_extreme<int8_t>(h, r));
  XHAL_CUDA_TRY(register_extreme<uint8_t>(h, r));
  XHAL_CUDA_TRY(register_extreme<int32_t>(h, r));
  XHAL_CUDA_TRY(register_extreme<int64_t>(h, r));
  return register_extreme<bool>(h, r);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(reduce, register_reduce_family);

}  // namespace xhal_cuda
