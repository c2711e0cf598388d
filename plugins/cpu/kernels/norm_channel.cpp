// batch_normalization (inference) and instance_normalization: X is [N, C, spatial...] and the
// parameters are per channel. Both work on the N * C contiguous spatial blocks, threads across
// blocks. Instance normalization computes each block's mean and variance (two float64-summed
// passes); batch normalization takes them from its inputs.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"
#include "norm_common.h"

namespace xhal_cpu {
namespace {

// Checks X [N, C, ...] and Y of the same shape and every per-channel parameter ([C]).
template <class T>
xhal_status_t check_channel_op(const char* op, const xhal_tensor_t* X, const char* xname,
                               const xhal_tensor_t* const* params, const char* const* names,
                               int count, xhal_tensor_t* Y, const char* yname) {
  constexpr int32_t dt = DType<T>::id;
  XHAL_CPU_TRY(check_tensor(op, xname, X, dt));
  for (int i = 0; i < count; ++i) XHAL_CPU_TRY(check_tensor(op, names[i], params[i], dt));
  XHAL_CPU_TRY(check_tensor(op, yname, Y, dt));
  const Dims dx = dims_of(X), dy = dims_of(Y);
  if (dx.rank < 2)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s must have rank >= 2 ([N, C, ...]), got %s",
                op, xname, to_string(dx).c_str());
  if (dx != dy)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s has shape %s; %s has shape %s", op, yname,
                to_string(dy).c_str(), xname, to_string(dx).c_str());
  for (int i = 0; i < count; ++i) {
    const Dims dp = dims_of(params[i]);
    if (dp.rank != 1 || dp[0] != dx[1])
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s has shape %s; [%lld] expected (X %s)", op,
                  names[i], to_string(dp).c_str(), static_cast<long long>(dx[1]),
                  to_string(dx).c_str());
  }
  return XHAL_OK;
}

template <class T, class F>
std::vector<F> load_param(const xhal_tensor_t* p) {
  std::vector<F> v(static_cast<size_t>(numel(p)));
  norm::load_n(data_as<const T>(p), v.data(), numel(p));
  return v;
}

// Runs body(block index, const F* x, F* y) over the N * C blocks of `spatial` elements, with
// widening/narrowing through per-thread buffers for float16/bfloat16.
template <class T, class F, class Body>
void for_each_block(const T* x, T* y, int64_t blocks, int64_t spatial, Body&& body) {
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / 4 / std::max<int64_t>(1, spatial));
  parallel_for(blocks, grain, [&](int64_t b0, int64_t b1) {
    constexpr bool kWiden = !std::is_same_v<T, F>;
    std::vector<F> in(kWiden ? static_cast<size_t>(spatial) : 0), out(in.size());
    for (int64_t b = b0; b < b1; ++b) {
      if constexpr (kWiden) {
        norm::load_n(x + b * spatial, in.data(), spatial);
        body(b, in.data(), out.data());
        norm::store_n(out.data(), y + b * spatial, spatial);
      } else {
        body(b, x + b * spatial, y + b * spatial);
      }
    }
  });
}

constexpr const char* kBatch = "batch_normalization";
constexpr const char* kInstance = "instance_normalization";

template <class T>
xhal_status_t batch_norm_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                const xhal_tensor_t* scale, const xhal_tensor_t* B,
                                const xhal_tensor_t* input_mean, const xhal_tensor_t* input_var,
                                const xhal_batch_normalization_v1_attrs_t* given,
                                xhal_tensor_t* Y) {
  return guarded(kBatch, [&] {
    using F = norm::calc_t<T>;
    XHAL_CPU_TRY(check_context(kBatch, ctx));
    const xhal_tensor_t* params[] = {scale, B, input_mean, input_var};
    const char* names[] = {"input scale", "input B", "input input_mean", "input input_var"};
    XHAL_CPU_TRY(check_channel_op<T>(kBatch, X, "input X", params, names, 4, Y, "output Y"));
    const auto at = read_attrs(given, xhal_batch_normalization_v1_attrs_init);
    const Dims dx = dims_of(X);
    if (dx.numel() == 0) return XHAL_OK;
    const int64_t C = dx[1], spatial = dx.numel() / (dx[0] * C);
    const std::vector<F> s = load_param<T, F>(scale), b = load_param<T, F>(B),
                         mean = load_param<T, F>(input_mean), var = load_param<T, F>(input_var);
    std::vector<F> rstd(static_cast<size_t>(C));
    for (int64_t c = 0; c < C; ++c)
      rstd[c] = static_cast<F>(1.0 / std::sqrt(static_cast<double>(var[c]) +
                                               static_cast<double>(at.epsilon)));
    for_each_block<T, F>(data_as<const T>(X), data_as<T>(Y), dx[0] * C, spatial,
                         [&](int64_t blk, const F* xb, F* yb) {
                           const int64_t c = blk % C;
                           norm::affine_row_scalar(xb, spatial, mean[c], rstd[c], s[c], b[c], yb);
                         });
    return XHAL_OK;
  });
}

template <class T>
xhal_status_t instance_norm_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* input,
                                   const xhal_tensor_t* scale, const xhal_tensor_t* B,
                                   const xhal_instance_normalization_v1_attrs_t* given,
                                   xhal_tensor_t* output) {
  return guarded(kInstance, [&] {
    using F = norm::calc_t<T>;
    XHAL_CPU_TRY(check_context(kInstance, ctx));
    const xhal_tensor_t* params[] = {scale, B};
    const char* names[] = {"input scale", "input B"};
    XHAL_CPU_TRY(check_channel_op<T>(kInstance, input, "input input", params, names, 2, output,
                                     "output output"));
    const auto at = read_attrs(given, xhal_instance_normalization_v1_attrs_init);
    const Dims dx = dims_of(input);
    if (dx.numel() == 0) return XHAL_OK;
    const int64_t C = dx[1], spatial = dx.numel() / (dx[0] * C);
    const std::vector<F> s = load_param<T, F>(scale), b = load_param<T, F>(B);
    const double eps = static_cast<double>(at.epsilon);
    for_each_block<T, F>(data_as<const T>(input), data_as<T>(output), dx[0] * C, spatial,
                         [&](int64_t blk, const F* xb, F* yb) {
                           const int64_t c = blk % C;
                           const norm::Moments m = norm::row_moments(xb, spatial, eps);
                           norm::affine_row_scalar(xb, spatial, static_cast<F>(m.mean),
                                                   static_cast<F>(m.rstd), s[c], b[c], yb);
                         });
    return XHAL_OK;
  });
}

}  // namespace

xhal_status_t register_norm_channel_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  const char* bn = "xhal.cpu.batch_normalization";
  XHAL_CPU_TRY(xhal_register_batch_normalization_v1(h, r, batch_norm_kernel<float>,
                                                    XHAL_DTYPE_FLOAT32, 0, bn));
  XHAL_CPU_TRY(xhal_register_batch_normalization_v1(h, r, batch_norm_kernel<double>,
                                                    XHAL_DTYPE_FLOAT64, 0, bn));
  XHAL_CPU_TRY(xhal_register_batch_normalization_v1(h, r, batch_norm_kernel<Half>,
                                                    XHAL_DTYPE_FLOAT16, 0, bn));
  XHAL_CPU_TRY(xhal_register_batch_normalization_v1(h, r, batch_norm_kernel<BFloat16>,
                                                    XHAL_DTYPE_BFLOAT16, 0, bn));
  const char* in = "xhal.cpu.instance_normalization";
  XHAL_CPU_TRY(xhal_register_instance_normalization_v1(h, r, instance_norm_kernel<float>,
                                                       XHAL_DTYPE_FLOAT32, 0, in));
  XHAL_CPU_TRY(xhal_register_instance_normalization_v1(h, r, instance_norm_kernel<double>,
                                                       XHAL_DTYPE_FLOAT64, 0, in));
  XHAL_CPU_TRY(xhal_register_instance_normalization_v1(h, r, instance_norm_kernel<Half>,
                                                       XHAL_DTYPE_FLOAT16, 0, in));
  XHAL_CPU_TRY(xhal_register_instance_normalization_v1(h, r, instance_norm_kernel<BFloat16>,
                                                       XHAL_DTYPE_BFLOAT16, 0, in));
  return XHAL_OK;
}

}  // namespace xhal_cpu
