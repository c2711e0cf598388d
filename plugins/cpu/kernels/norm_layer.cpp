// layer_normalization: rows of prod(X.shape[axis:]) contiguous elements, threads across rows.
// Per row, while it sits in cache: the mean and variance with float64 sums, then one fused pass
// y = ((x - mean) * rstd) * scale + bias. float32 rows (and float16/bfloat16 ones, widened to
// float32 in a per-thread buffer first) use vec_math's hand-vectorised row (one pass for sum(x)
// and sum(x^2), a second for sum((x - mean)^2) where the mean dominates the spread); float64
// uses norm_common.h's two passes.
#include <algorithm>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels.h"
#include "norm_common.h"
#include "vec_math.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "layer_normalization";

// Reads a parameter that broadcasts unidirectionally to `block` into `out` (block.numel()
// values, compute type). Returns false when it does not broadcast.
template <class T, class F>
bool expand_param(const xhal_tensor_t* p, const Dims& block, std::vector<F>* out) {
  const Dims dp = dims_of(p);
  if (dp.rank > block.rank) return false;
  for (int i = 0; i < dp.rank; ++i) {
    const int64_t d = dp[dp.rank - 1 - i], want = block[block.rank - 1 - i];
    if (d != 1 && d != want) return false;
  }
  const int64_t n = block.numel();
  const T* src = data_as<const T>(p);
  out->resize(static_cast<size_t>(n));
  if (dp.numel() == n) {  // same elements in the same order
    norm::load_n(src, out->data(), n);
    return true;
  }
  std::vector<F> vals(static_cast<size_t>(dp.numel()));
  norm::load_n(src, vals.data(), dp.numel());
  int64_t strides[kMaxRank] = {};
  broadcast_strides(dp, block, strides);
  int64_t idx[kMaxRank] = {};
  for (int64_t j = 0; j < n; ++j) {
    int64_t off = 0;
    for (int a = 0; a < block.rank; ++a) off += idx[a] * strides[a];
    (*out)[static_cast<size_t>(j)] = vals[static_cast<size_t>(off)];
    for (int a = block.rank - 1; a >= 0; --a) {
      if (++idx[a] < block[a]) break;
      idx[a] = 0;
    }
  }
  return true;
}

template <class T>
xhal_status_t layer_norm_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                const xhal_tensor_t* Scale, const xhal_tensor_t* B,
                                const xhal_layer_normalization_v1_attrs_t* given,
                                xhal_tensor_t* Y, xhal_tensor_t* Mean, xhal_tensor_t* InvStdDev) {
  return guarded(kOp, [&] {
    using F = norm::calc_t<T>;
    constexpr int32_t dt = DType<T>::id;
    XHAL_CPU_TRY(check_context(kOp, ctx));
    XHAL_CPU_TRY(check_tensor(kOp, "input X", X, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "input Scale", Scale, dt));
    if (B != nullptr) XHAL_CPU_TRY(check_tensor(kOp, "input B", B, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "output Y", Y, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "output Mean", Mean, XHAL_DTYPE_FLOAT32));
    XHAL_CPU_TRY(check_tensor(kOp, "output InvStdDev", InvStdDev, XHAL_DTYPE_FLOAT32));
    const auto at = read_attrs(given, xhal_layer_normalization_v1_attrs_init);
    const Dims dx = dims_of(X), dy = dims_of(Y);
    if (dx != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output Y has shape %s; X has shape %s", kOp,
                  to_string(dy).c_str(), to_string(dx).c_str());
    const int axis = normalize_axis(at.axis, dx.rank);
    if (axis < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: axis %lld is out of range for X %s", kOp,
                  static_cast<long long>(at.axis), to_string(dx).c_str());
    if (at.stash_type != 1)
      return fail(XHAL_ERROR_UNSUPPORTED, "%s: stash_type %lld is not supported (only 1)", kOp,
                  static_cast<long long>(at.stash_type));
    Dims block, stats;
    for (int i = 0; i < dx.rank; ++i) stats.push_back(i < axis ? dx[i] : 1);
    for (int i = axis; i < dx.rank; ++i) block.push_back(dx[i]);
    if (dims_of(Mean) != stats || dims_of(InvStdDev) != stats)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "%s: outputs Mean %s and InvStdDev %s must have shape %s", kOp,
                  to_string(dims_of(Mean)).c_str(), to_string(dims_of(InvStdDev)).c_str(),
                  to_string(stats).c_str());
    std::vector<F> scale, bias;
    if (!expand_param<T>(Scale, block, &scale))
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: Scale %s does not broadcast to %s", kOp,
                  to_string(dims_of(Scale)).c_str(), to_string(block).c_str());
    if (B != nullptr) {
      if (!expand_param<T>(B, block, &bias))
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: B %s does not broadcast to %s", kOp,
                    to_string(dims_of(B)).c_str(), to_string(block).c_str());
    } else {
      bias.assign(scale.size(), F(0));
    }
    const int64_t n = block.numel();
    const int64_t rows = stats.numel();
    float* mean_out = data_as<float>(Mean);
    float* inv_out = data_as<float>(InvStdDev);
    if (n == 0) {  // empty rows: NaN statistics, empty Y
      std::fill(mean_out, mean_out + rows, std::numeric_limits<float>::quiet_NaN());
      std::fill(inv_out, inv_out + rows, std::numeric_limits<float>::quiet_NaN());
      return XHAL_OK;
    }
    if (rows == 0) return XHAL_OK;
    const T* x = data_as<const T>(X);
    T* y = data_as<T>(Y);
    const double eps = static_cast<double>(at.epsilon);
    // float32 rows are vectorised (well under a cycle per element): tasks of at least
    // kParallelGrain elements; the other types a quarter of that.
    const int64_t grain = std::max<int64_t>(
        1, (std::is_same_v<T, float> ? kParallelGrain : kParallelGrain / 4) / n);
    parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
      constexpr bool kWiden = !std::is_same_v<T, F>;
      std::vector<F> in(kWiden ? static_cast<size_t>(n) : 0), out(in.size());
      for (int64_t r = r0; r < r1; ++r) {
        const F* xr;
        F* yr;
        if constexpr (kWiden) {
          norm::load_n(x + r * n, in.data(), n);
          xr = in.data();
          yr = out.data();
        } else {
          xr = x + r * n;
          yr = y + r * n;
        }
        if constexpr (std::is_same_v<F, float>) {  // the hand-vectorised row of vec_math
          double mean, rstd;
          vec::layer_norm_row(xr, n, eps, scale.data(), bias.data(), yr, &mean, &rstd);
          mean_out[r] = static_cast<float>(mean);
          inv_out[r] = static_cast<float>(rstd);
        } else {
          const norm::Moments m = norm::row_moments(xr, n, eps);
          mean_out[r] = static_cast<float>(m.mean);
          inv_out[r] = static_cast<float>(m.rstd);
          norm::affine_row(xr, n, static_cast<F>(m.mean), static_cast<F>(m.rstd), scale.data(),
                           bias.data(), yr);
        }
        if constexpr (kWiden) norm::store_n(out.data(), y + r * n, n);
      }
    });
    return XHAL_OK;
  });
}

}  // namespace

xhal_status_t register_norm_layer_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  const char* name = "xhal.cpu.layer_normalization";
  XHAL_CPU_TRY(xhal_register_layer_normalization_v1(h, r, layer_norm_kernel<float>,
                                                    XHAL_DTYPE_FLOAT32, 0, name));
  XHAL_CPU_TRY(xhal_register_layer_normalization_v1(h, r, layer_norm_kernel<double>,
                                                    XHAL_DTYPE_FLOAT64, 0, name));
  XHAL_CPU_TRY(xhal_register_layer_normalization_v1(h, r, layer_norm_kernel<Half>,
                                                    XHAL_DTYPE_FLOAT16, 0, name));
  XHAL_CPU_TRY(xhal_register_layer_normalization_v1(h, r, layer_norm_kernel<BFloat16>,
                                                    XHAL_DTYPE_BFLOAT16, 0, name));
  return XHAL_OK;
}

}  // namespace xhal_cpu
