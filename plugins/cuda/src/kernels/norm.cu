// layer_normalization (ONNX LayerNormalization-17, stash_type 1, with the Mean and InvStdDev
// outputs), instance_normalization (InstanceNormalization-22) and batch_normalization
// (BatchNormalization-15, inference: given mean and variance); semantics of the CPU plugin
// (norm_layer.cpp, norm_channel.cpp):
//   y = ((x - mean) * rstd) * scale + bias,   rstd = 1 / sqrt(var + epsilon),
// var the mean of squared deviations (two passes, no E[x^2] - E[x]^2 cancellation). float32,
// float16 and bfloat16 compute in float32, float64 in float64; Mean and InvStdDev are float32.
// Layer rows of zero elements give NaN statistics and an empty Y.
//
// How: layer and instance normalisation are row normalisations (rows of prod(X.shape[axis:])
// elements, or of the spatial size per (n, c)), one kernel for both: the row is held in
// registers (a warp per row up to 1024 elements, a 256-thread block per row up to
// 256 * VEC * 16), with 16-byte vector loads when every pointer is aligned and VEC divides the
// row; longer rows that fit in shared memory are cached there by a 1024-thread block per row;
// longer ones still take a block per row that reads the row three times. Layer Scale and B that
// do not already have the normalised block's shape are broadcast into a compact scratch first
// (copy_strided with zero strides). Batch normalisation is one elementwise kernel.
// Not done: splitting a very long row over several blocks; stash_type other than 1.
#include <cmath>
#include <cstdint>

#include "dtypes.cuh"
#include "reduce_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

template <class T>
using calc_t = std::conditional_t<std::is_same<T, double>::value, double, float>;

// Neither Inf nor NaN.
template <class F>
__device__ __forceinline__ bool finite(F v) {
  return v - v == F(0);
}

__device__ __forceinline__ float rsqrt_of(float v) { return 1.0f / ::sqrtf(v); }
__device__ __forceinline__ double rsqrt_of(double v) { return 1.0 / ::sqrt(v); }

constexpr int kThreads = 256;

// Parameters of a row normalisation. Layer (kChannel false): scale/bias hold `n` elements each
// (bias may be null). Instance (kChannel true): scale/bias hold C elements, row r uses r % C.
template <class T>
struct RowParams {
  const T* x;
  T* y;
  int64_t rows, n;
  const T* scale;
  const T* bias;
  int64_t C;
  float eps;
  float* mean_out;  // null for instance normalisation
  float* inv_out;
};

template <class T, int VEC, int ITEMS, bool kWarp, bool kChannel>
__global__ void __launch_bounds__(kThreads) norm_rows_kernel(RowParams<T> p) {
  using F = calc_t<T>;
  const int group = kWarp ? 32 : kThreads;
  const int lane = kWarp ? (threadIdx.x & 31) : threadIdx.x;
  const int64_t rows_per_block = kWarp ? kThreads / 32 : 1;
  const int64_t first = blockIdx.x * rows_per_block + (kWarp ? (threadIdx.x >> 5) : 0);
  const double nd = static_cast<double>(p.n);
  for (int64_t row = first; row < p.rows; row += int64_t(gridDim.x) * rows_per_block) {
    const T* xr = p.x + row * p.n;
    T* yr = p.y + row * p.n;
    F v[ITEMS][VEC];
    // Per-thread partial sums in F; one that overflowed (or met an Inf or NaN) is redone in
    // double. Row totals, mean and variance in double, as the CPU plugin and the reference.
    F s = F(0);
#pragma unroll
    for (int it = 0; it < ITEMS; ++it) {
      const int64_t e0 = (int64_t(it) * group + lane) * VEC;
      if (e0 < p.n) {
        red::load_vec<VEC>(xr + e0, v[it]);
#pragma unroll
        for (int k = 0; k < VEC; ++k) s += v[it][k];
      }
    }
    double sd = static_cast<double>(s);
    if (!finite(s)) {
      sd = 0.0;
      for (int it = 0; it < ITEMS; ++it)
        if ((int64_t(it) * group + lane) * VEC < p.n)
          for (int k = 0; k < VEC; ++k) sd += static_cast<double>(v[it][k]);
    }
    const double mean_d = red::group_all<kWarp>(sd, red::SumOp{}) / nd;
    const F mean = static_cast<F>(mean_d);
    F q = F(0);
#pragma unroll
    for (int it = 0; it < ITEMS; ++it) {
      const int64_t e0 = (int64_t(it) * group + lane) * VEC;
      if (e0 < p.n) {
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
          const F d = v[it][k] - mean;
          q += d * d;
        }
      }
    }
    double qd = static_cast<double>(q);
    if (!finite(q)) {
      qd = 0.0;
      for (int it = 0; it < ITEMS; ++it)
        if ((int64_t(it) * group + lane) * VEC < p.n)
          for (int k = 0; k < VEC; ++k) {
            const double d = static_cast<double>(v[it][k]) - mean_d;
            qd += d * d;
          }
    }
    const double var = red::group_all<kWarp>(qd, red::SumOp{}) / nd;
    const double rstd_d = 1.0 / ::sqrt(var + static_cast<double>(p.eps));
    const F rstd = static_cast<F>(rstd_d);
    if (p.mean_out != nullptr && lane == 0) {
      p.mean_out[row] = static_cast<float>(mean_d);
      p.inv_out[row] = static_cast<float>(rstd_d);
    }
    F sc = F(1), bc = F(0);
    if (kChannel) {
      sc = convert<F>(p.scale[row % p.C]);
      bc = convert<F>(p.bias[row % p.C]);
    }
#pragma unroll
    for (int it = 0; it < ITEMS; ++it) {
      const int64_t e0 = (int64_t(it) * group + lane) * VEC;
      if (e0 < p.n) {
        F out[VEC];
        if (kChannel) {
#pragma unroll
          for (int k = 0; k < VEC; ++k) out[k] = ((v[it][k] - mean) * rstd) * sc + bc;
        } else {
          F sv[VEC], bv[VEC];
          red::load_vec<VEC>(p.scale + e0, sv);
          if (p.bias != nullptr) {
            red::load_vec<VEC>(p.bias + e0, bv);
          } else {
#pragma unroll
            for (int k = 0; k < VEC; ++k) bv[k] = F(0);
          }
#pragma unroll
          for (int k = 0; k < VEC; ++k) out[k] = ((v[it][k] - mean) * rstd) * sv[k] + bv[k];
        }
        red::store_vec<VEC>(yr + e0, out);
      }
    }
  }
}

// Long rows: a 1024-thread block per row with the row cached (in the compute type) in dynamic
// shared memory, so global memory is read once. Sums in double.
constexpr int kBigThreads = 1024;

template <class T, int VEC, bool kChannel>
__global__ void __launch_bounds__(kBigThreads) norm_smem_rows_kernel(RowParams<T> p) {
  using F = calc_t<T>;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  F* buf = reinterpret_cast<F*>(smem_raw);
  const int64_t chunks = p.n / VEC;  // VEC divides n
  const double nd = static_cast<double>(p.n);
  for (int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
    const T* xr = p.x + row * p.n;
    T* yr = p.y + row * p.n;
    double s = 0.0;
    for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x) {
      F v[VEC];
      red::load_vec<VEC>(xr + c * VEC, v);
#pragma unroll
      for (int k = 0; k < VEC; ++k) s += static_cast<double>(v[k]);
      red::smem_store<VEC>(buf + c * VEC, v);
    }
    const double mean_d = red::block_all(s, red::SumOp{}) / nd;  // also publishes buf
    double q = 0.0;
    for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x) {
      F v[VEC];
      red::smem_load<VEC>(buf + c * VEC, v);
#pragma unroll
      for (int k = 0; k < VEC; ++k) {
        const double d = static_cast<double>(v[k]) - mean_d;
        q += d * d;
      }
    }
    const double var = red::block_all(q, red::SumOp{}) / nd;
    const double rstd_d = 1.0 / ::sqrt(var + static_cast<double>(p.eps));
    const F mean = static_cast<F>(mean_d), rstd = static_cast<F>(rstd_d);
    if (p.mean_out != nullptr && threadIdx.x == 0) {
      p.mean_out[row] = static_cast<float>(mean_d);
      p.inv_out[row] = static_cast<float>(rstd_d);
    }
    F sc = F(1), bc = F(0);
    if (kChannel) {
      sc = convert<F>(p.scale[row % p.C]);
      bc = convert<F>(p.bias[row % p.C]);
    }
    for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x) {
      F v[VEC];
      red::smem_load<VEC>(buf + c * VEC, v);
      if (kChannel) {
#pragma unroll
        for (int k = 0; k < VEC; ++k) v[k] = ((v[k] - mean) * rstd) * sc + bc;
      } else {
        F sv[VEC], bv[VEC];
        red::load_vec<VEC>(p.scale + c * VEC, sv);
        if (p.bias != nullptr) {
          red::load_vec<VEC>(p.bias + c * VEC, bv);
        } else {
#pragma unroll
          for (int k = 0; k < VEC; ++k) bv[k] = F(0);
        }
#pragma unroll
        for (int k = 0; k < VEC; ++k) v[k] = ((v[k] - mean) * rstd) * sv[k] + bv[k];
      }
      red::store_vec<VEC>(yr + c * VEC, v);
    }
    __syncthreads();  // buf is rewritten by the next row
  }
}

template <class T, int VEC, bool kChannel>
xhal_status_t launch_smem_rows(const Call& call, const RowParams<T>& p) {
  const size_t bytes = sizeof(calc_t<T>) * static_cast<size_t>(p.n);
  auto* kernel = norm_smem_rows_kernel<T, VEC, kChannel>;
  XHAL_CUDA_CHECK("normalization (shared memory size)",
                  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(bytes)));
  kernel<<<red::blocks_for(p.rows), kBigThreads, bytes, call.stream>>>(p);
  return XHAL_OK;
}

// Longest rows: a block per row, three passes over global memory.
template <class T, bool kChannel>
__global__ void __launch_bounds__(kThreads) norm_long_rows_kernel(RowParams<T> p) {
  using F = calc_t<T>;
  const double nd = static_cast<double>(p.n);
  for (int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
    const T* xr = p.x + row * p.n;
    T* yr = p.y + row * p.n;
    double s = 0.0;
    for (int64_t i = threadIdx.x; i < p.n; i += blockDim.x) s += convert<double>(xr[i]);
    const double mean_d = red::block_all(s, red::SumOp{}) / nd;
    double q = 0.0;
    for (int64_t i = threadIdx.x; i < p.n; i += blockDim.x) {
      const double d = convert<double>(xr[i]) - mean_d;
      q += d * d;
    }
    const double var = red::block_all(q, red::SumOp{}) / nd;
    const double rstd_d = 1.0 / ::sqrt(var + static_cast<double>(p.eps));
    const F mean = static_cast<F>(mean_d), rstd = static_cast<F>(rstd_d);
    if (p.mean_out != nullptr && threadIdx.x == 0) {
      p.mean_out[row] = static_cast<float>(mean_d);
      p.inv_out[row] = static_cast<float>(rstd_d);
    }
    for (int64_t i = threadIdx.x; i < p.n; i += blockDim.x) {
      const int64_t pi = kChannel ? row % p.C : i;
      const F sc = convert<F>(p.scale[pi]);
      const F bc = p.bias != nullptr ? convert<F>(p.bias[pi]) : F(0);
      yr[i] = convert<T>(((convert<F>(xr[i]) - mean) * rstd) * sc + bc);
    }
  }
}

template <class T, int VEC, int ITEMS, bool kWarp, bool kChannel>
void launch_rows(const Call& call, const RowParams<T>& p) {
  const int64_t blocks = kWarp ? red::ceil_div(p.rows, kThreads / 32) : p.rows;
  norm_rows_kernel<T, VEC, ITEMS, kWarp, kChannel>
      <<<red::blocks_for(blocks), kThreads, 0, call.stream>>>(p);
}

template <class T, int VEC, bool kWarp, bool kChannel, int kMaxItems>
void dispatch_items(const Call& call, const RowParams<T>& p, int items) {
  switch (items) {
    case 1: return launch_rows<T, VEC, 1, kWarp, kChannel>(call, p);
    case 2: return launch_rows<T, VEC, 2, kWarp, kChannel>(call, p);
    case 4: return launch_rows<T, VEC, 4, kWarp, kChannel>(call, p);
    case 8: return launch_rows<T, VEC, 8, kWarp, kChannel>(call, p);
    case 16: return launch_rows<T, VEC, 16, kWarp, kChannel>(call, p);
    default:
      if constexpr (kMaxItems >= 32) return launch_rows<T, VEC, 32, kWarp, kChannel>(call, p);
  }
}

template <class T, bool kChannel>
xhal_status_t norm_rows(const Call& call, const RowParams<T>& p, const char* what) {
  constexpr int VEC = 16 / sizeof(T);
  bool vec = red::aligned16(p.x) && red::aligned16(p.y) && p.n % VEC == 0;
  if (!kChannel)
    vec = vec && red::aligned16(p.scale) && (p.bias == nullptr || red::aligned16(p.bias));
  const int64_t n = p.n;
  if (n <= 1024) {
    if (vec)
      dispatch_items<T, VEC, true, kChannel, 16>(call, p,
                                                 red::pow2_bucket(red::ceil_div(n, 32 * VEC), 16));
    else
      dispatch_items<T, 1, true, kChannel, 32>(call, p, red::pow2_bucket(red::ceil_div(n, 32), 32));
  } else if (vec && n <= int64_t(kThreads) * VEC * 16) {
    dispatch_items<T, VEC, false, kChannel, 16>(
        call, p, red::pow2_bucket(red::ceil_div(n, int64_t(kThreads) * VEC), 16));
  } else if (int64_t(sizeof(calc_t<T>)) * n <= red::smem_optin_bytes(call.device)) {
    if (vec)
      XHAL_CUDA_TRY((launch_smem_rows<T, VEC, kChannel>(call, p)));
    else
      XHAL_CUDA_TRY((launch_smem_rows<T, 1, kChannel>(call, p)));
  } else {
    norm_long_rows_kernel<T, kChannel><<<red::blocks_for(p.rows), kThreads, 0, call.stream>>>(p);
  }
  return check_launch(call, what);
}

__global__ void fill_float_kernel(float* y, int64_t n, float v) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    y[i] = v;
}

// A compact copy of `param` broadcast (unidirectionally, right-aligned) to `block`, or the
// parameter itself when it is compact with block's element count already.
template <class T>
xhal_status_t expand_param(const Call& call, const char* role, const xhal_tensor_t* param,
                           const Shape& block, Scratch* tmp, const T** out) {
  const Shape dp = shape_of(param);
  bool ok = dp.rank <= block.rank;
  for (int i = 0; ok && i < dp.rank; ++i) {
    const int64_t d = dp[dp.rank - 1 - i], want = block[block.rank - 1 - i];
    ok = d == 1 || d == want;
  }
  if (!ok)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s %s does not broadcast to %s", call.op, role,
                to_string(dp).c_str(), to_string(block).c_str());
  const int64_t n = block.numel();
  if (is_compact(param) && dp.numel() == n) {
    *out = data_as<const T>(param);
    return XHAL_OK;
  }
  int64_t pst[kMaxRank], src[kMaxRank], dst[kMaxRank];
  strides_of(param, pst);
  for (int a = 0; a < block.rank; ++a) {
    const int pi = a - (block.rank - dp.rank);
    src[a] = pi >= 0 && dp[pi] != 1 ? pst[pi] : 0;
  }
  compact_strides(block, dst);
  XHAL_CUDA_TRY(tmp->alloc(call, sizeof(T) * n));
  XHAL_CUDA_TRY(copy_strided(call, block, data_as<const T>(param), src, tmp->get(), dst,
                             sizeof(T)));
  *out = tmp->as<const T>();
  return XHAL_OK;
}

// ---- layer_normalization ------------------------------------------------------------------------
template <class T>
xhal_status_t layer_norm_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                const xhal_tensor_t* Scale, const xhal_tensor_t* B,
                                const xhal_layer_normalization_v1_attrs_t* attrs,
                                xhal_tensor_t* Y, xhal_tensor_t* Mean,
                                xhal_tensor_t* InvStdDev) noexcept {
  constexpr const char* op = "layer_normalization";
  return guarded(op, [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call(op, ctx, &call));
    constexpr int32_t dt = dtype_of<T>();
    XHAL_CUDA_TRY(check_tensor(call, "input X", X, dt));
    XHAL_CUDA_TRY(check_tensor(call, "input Scale", Scale, dt));
    if (B != nullptr) XHAL_CUDA_TRY(check_tensor(call, "input B", B, dt));
    XHAL_CUDA_TRY(check_tensor(call, "output Y", Y, dt));
    XHAL_CUDA_TRY(check_tensor(call, "output Mean", Mean, XHAL_DTYPE_FLOAT32));
    XHAL_CUDA_TRY(check_tensor(call, "output InvStdDev", InvStdDev, XHAL_DTYPE_FLOAT32));
    if (attrs == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: attributes are NULL", op);
    const Shape dx = shape_of(X);
    XHAL_CUDA_TRY(check_shape(call, "output Y", Y, dx));
    const int axis = red::normalize_axis(attrs->axis, dx.rank);
    if (axis < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: axis %lld is out of range for X %s", op,
                  static_cast<long long>(attrs->axis), to_string(dx).c_str());
    if (attrs->stash_type != 1)
      return fail(XHAL_ERROR_UNSUPPORTED, "%s: stash_type %lld is not supported (only 1)", op,
                  static_cast<long long>(attrs->stash_type));
    Shape block, stats;
    for (int i = 0; i < dx.rank; ++i) stats.push_back(i < axis ? dx[i] : 1);
    for (int i = axis; i < dx.rank; ++i) block.push_back(dx[i]);
    XHAL_CUDA_TRY(check_shape(call, "output Mean", Mean, stats));
    XHAL_CUDA_TRY(check_shape(call, "output InvStdDev", InvStdDev, stats));
    const int64_t n = block.numel(), rows = stats.numel();
    float* mean_out = data_as<float>(Mean);
    float* inv_out = data_as<float>(InvStdDev);
    Scratch scale_tmp, bias_tmp;
    const T* scale = nullptr;
    const T* bias = nullptr;
    XHAL_CUDA_TRY(expand_param<T>(call, "Scale", Scale, block, &scale_tmp, &scale));
    if (B != nullptr) XHAL_CUDA_TRY(expand_param<T>(call, "B", B, block, &bias_tmp, &bias));
    if (rows == 0) return XHAL_OK;
    if (n == 0) {  // empty rows: NaN statistics, empty Y
      fill_float_kernel<<<grid_for(rows), 256, 0, call.stream>>>(mean_out, rows, NAN);
      fill_float_kernel<<<grid_for(rows), 256, 0, call.stream>>>(inv_out, rows, NAN);
      return check_launch(call, "NaN statistics");
    }
    CompactInput cx;
    XHAL_CUDA_TRY(cx.init(call, X));
    const RowParams<T> p{cx.as<T>(), data_as<T>(Y), rows, n, scale, bias, 1, attrs->epsilon,
                         mean_out, inv_out};
    return norm_rows<T, false>(call, p, "layer_normalization rows");
  });
}

// ---- instance_normalization and batch_normalization: X is [N, C, spatial...] --------------------
// Checks X, Y of the same shape and rank >= 2, and every per-channel parameter ([C]).
template <class T>
xhal_status_t check_channel_op(const Call& call, const xhal_tensor_t* X, const char* xname,
                               const xhal_tensor_t* const* params, const char* const* names,
                               int count, const xhal_tensor_t* Y, const char* yname) {
  constexpr int32_t dt = dtype_of<T>();
  XHAL_CUDA_TRY(check_tensor(call, xname, X, dt));
  for (int i = 0; i < count; ++i) XHAL_CUDA_TRY(check_tensor(call, names[i], params[i], dt));
  XHAL_CUDA_TRY(check_tensor(call, yname, Y, dt));
  const Shape dx = shape_of(X);
  if (dx.rank < 2)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s must have rank >= 2 ([N, C, ...]), got %s",
                call.op, xname, to_string(dx).c_str());
  XHAL_CUDA_TRY(check_shape(call, yname, Y, dx));
  for (int i = 0; i < count; ++i) {
    const Shape dp = shape_of(params[i]);
    if (dp.rank != 1 || dp[0] != dx[1])
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s has shape %s; [%lld] expected (X %s)",
                  call.op, names[i], to_string(dp).c_str(), static_cast<long long>(dx[1]),
                  to_string(dx).c_str());
  }
  return XHAL_OK;
}

template <class T>
xhal_status_t instance_norm_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* input,
                                   const xhal_tensor_t* scale, const xhal_tensor_t* B,
                                   const xhal_instance_normalization_v1_attrs_t* attrs,
                                   xhal_tensor_t* output) noexcept {
  constexpr const char* op = "instance_normalization";
  return guarded(op, [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call(op, ctx, &call));
    const xhal_tensor_t* params[] = {scale, B};
    const char* names[] = {"input scale", "input B"};
    XHAL_CUDA_TRY(check_channel_op<T>(call, input, "input input", params, names, 2, output,
                                      "output output"));
    if (attrs == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: attributes are NULL", op);
    const Shape dx = shape_of(input);
    if (dx.numel() == 0) return XHAL_OK;
    const int64_t C = dx[1], rows = dx[0] * C, spatial = dx.numel() / rows;
    CompactInput cx, cs, cb;
    XHAL_CUDA_TRY(cx.init(call, input));
    XHAL_CUDA_TRY(cs.init(call, scale));
    XHAL_CUDA_TRY(cb.init(call, B));
    const RowParams<T> p{cx.as<T>(), data_as<T>(output), rows, spatial, cs.as<T>(), cb.as<T>(),
                         C, attrs->epsilon, nullptr, nullptr};
    return norm_rows<T, true>(call, p, "instance_normalization rows");
  });
}

template <class T>
__global__ void batch_norm_kernel_impl(const T* __restrict__ x, T* __restrict__ y, int64_t total,
                                       int64_t C, int64_t spatial, const T* scale, const T* bias,
                                       const T* mean, const T* var, float eps) {
  using F = calc_t<T>;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = (i / spatial) % C;
    const F rstd = rsqrt_of(convert<F>(var[c]) + static_cast<F>(eps));
    y[i] = convert<T>(((convert<F>(x[i]) - convert<F>(mean[c])) * rstd) * convert<F>(scale[c]) +
                      convert<F>(bias[c]));
  }
}

template <class T>
xhal_status_t batch_norm_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                const xhal_tensor_t* scale, const xhal_tensor_t* B,
                                const xhal_tensor_t* input_mean, const xhal_tensor_t* input_var,
                                const xhal_batch_normalization_v1_attrs_t* attrs,
                                xhal_tensor_t* Y) noexcept {
  constexpr const char* op = "batch_normalization";
  return guarded(op, [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call(op, ctx, &call));
    const xhal_tensor_t* params[] = {scale, B, input_mean, input_var};
    const char* names[] = {"input scale", "input B", "input input_mean", "input input_var"};
    XHAL_CUDA_TRY(check_channel_op<T>(call, X, "input X", params, names, 4, Y, "output Y"));
    if (attrs == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: attributes are NULL", op);
    const Shape dx = shape_of(X);
    const int64_t total = dx.numel();
    if (total == 0) return XHAL_OK;
    const int64_t C = dx[1], spatial = total / (dx[0] * C);
    CompactInput cx, cs, cb, cm, cv;
    XHAL_CUDA_TRY(cx.init(call, X));
    XHAL_CUDA_TRY(cs.init(call, scale));
    XHAL_CUDA_TRY(cb.init(call, B));
    XHAL_CUDA_TRY(cm.init(call, input_mean));
    XHAL_CUDA_TRY(cv.init(call, input_var));
    batch_norm_kernel_impl<T><<<grid_for(total), 256, 0, call.stream>>>(
        cx.as<T>(), data_as<T>(Y), total, C, spatial, cs.as<T>(), cb.as<T>(), cm.as<T>(),
        cv.as<T>(), attrs->epsilon);
    return check_launch(call, "batch_normalization");
  });
}

template <class T>
xhal_status_t register_for(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = dtype_of<T>();
  constexpr uint32_t f = XHAL_KERNEL_FLAG_STRIDED_INPUTS;
  XHAL_CUDA_TRY(xhal_register_layer_normalization_v1(h, r, layer_norm_kernel<T>, dt, f,
                                                     "cuda.layer_normalization"));
  XHAL_CUDA_TRY(xhal_register_instance_normalization_v1(h, r, instance_norm_kernel<T>, dt, f,
                                                        "cuda.instance_normalization"));
  return xhal_register_batch_normalization_v1(h, r, batch_norm_kernel<T>, dt, f,
                                              "cuda.batch_normalization");
}

xhal_status_t register_norm_family(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CUDA_TRY(register_for<float>(h, r));
  XHAL_CUDA_TRY(register_for<double>(h, r));
  XHAL_CUDA_TRY(register_for<__half>(h, r));
  return register_for<__nv_bfloat16>(h, r);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(norm, register_norm_family);

}  // namespace xhal_cuda
