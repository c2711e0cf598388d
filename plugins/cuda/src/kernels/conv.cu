// conv and conv_transpose (ONNX Conv-22 / ConvTranspose-22), 1-D to 3-D, float32 / float64 /
// float16 / bfloat16, with groups, dilations, pads / auto_pad and bias.
//
// conv: per image, im2col of all channels into Scratch (col[(c, kd, kh, kw), (od, oh, ow)] =
// x[c, od*s - pb + kd*d, ...], 0 in the padding), then one gemm_batched over the groups
// (Y_g[mg, os] = W_g[mg, cg*ks] * col_g[cg*ks, os]); the bias is written into Y first and
// added as GEMM's beta = 1 term. 1x1 stride-1 unpadded convolutions multiply the input
// directly (no im2col). float16/bfloat16 go through cuBLAS with float32 accumulation.
// conv_transpose: a deterministic gather, one thread per output element: the sum over the
// group's input channels and kernel taps of x[n, c, i...] * w[c, m, k...] for every input
// position i with i * stride + k * dilation - pad_begin == o, accumulated in acc_t<T>, plus the
// bias. Geometry (pads from auto_pad, output_shape, output_padding) is the CPU plugin's.
//
// Not done: integer convolutions (the spec admits only floating types); 4-D and higher spatial
// ranks (refused as on the CPU).
#include <algorithm>
#include <cstring>

#include "conv_common.cuh"
#include "dtypes.cuh"
#include "gemm.h"
#include "movement_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

using convg::Geom;

// y[p * os + i] = b[p % M] for p over N * M planes.
template <class T>
__global__ void bias_fill_dev(int64_t total, int64_t os, int64_t M, const T* b, T* y) {
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < total;
       u += int64_t(gridDim.x) * blockDim.x)
    y[u] = b[(u / os) % M];
}

template <class T>
__global__ void im2col_dev(Geom g, int64_t total, const T* x, T* col) {
  const int64_t os = g.out_size(), ks = g.k_size(), is = g.in_size();
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < total;
       u += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = u / os, o = u % os;
    const int64_t c = r / ks, t = r % ks;
    const int64_t kw = t % g.k[2], kh = (t / g.k[2]) % g.k[1], kd = t / (g.k[2] * g.k[1]);
    const int64_t ow = o % g.out[2], oh = (o / g.out[2]) % g.out[1], od = o / (g.out[2] * g.out[1]);
    const int64_t id = od * g.s[0] - g.pb[0] + kd * g.d[0];
    const int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
    const int64_t iw = ow * g.s[2] - g.pb[2] + kw * g.d[2];
    const bool inside = id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1] && iw >= 0 &&
                        iw < g.in[2];
    col[u] = inside ? x[c * is + (id * g.in[1] + ih) * g.in[2] + iw] : convert<T>(0.0f);
  }
}

xhal_status_t check_kernel_shape(const Call& call, const int64_t* ks, int64_t count, int n,
                                 const Shape& dw) {
  if (count == 0) return XHAL_OK;
  bool same = count == n && ks != nullptr;
  for (int i = 0; same && i < n; ++i) same = ks[i] == dw[2 + i];
  if (!same)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: kernel_shape %s differs from W %s", call.op,
                convg::ints_to_string(ks, ks == nullptr ? 0 : count).c_str(),
                to_string(dw).c_str());
  return XHAL_OK;
}

template <class T>
xhal_status_t conv_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                          const xhal_tensor_t* W, const xhal_tensor_t* B,
                          const xhal_conv_v1_attrs_t* given, xhal_tensor_t* Y) noexcept {
  return guarded("conv", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("conv", ctx, &call));
    constexpr int32_t dt = dtype_of<T>();
    XHAL_CUDA_TRY(check_tensor(call, "input X", X, dt));
    XHAL_CUDA_TRY(check_tensor(call, "input W", W, dt));
    if (B != nullptr) XHAL_CUDA_TRY(check_tensor(call, "input B", B, dt));
    XHAL_CUDA_TRY(check_tensor(call, "output Y", Y, dt));
    const auto at = mv::read_attrs(given, xhal_conv_v1_attrs_init);
    const Shape dx = shape_of(X), dw = shape_of(W);
    if (dx.rank < 3 || dw.rank != dx.rank)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "conv: X %s must be [N, C, spatial...] and W %s of the same rank",
                  to_string(dx).c_str(), to_string(dw).c_str());
    const int n = dx.rank - 2;
    const int64_t N = dx[0], C = dx[1], M = dw[0], group = at.group;
    if (group < 1 || C % group != 0 || M % group != 0 || dw[1] * group != C)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "conv: group %lld must divide C and M, and W[1] * group must equal C "
                  "(X %s, W %s)",
                  static_cast<long long>(group), to_string(dx).c_str(), to_string(dw).c_str());
    if (B != nullptr && (shape_of(B).rank != 1 || shape_of(B)[0] != M))
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "conv: B %s must be [%lld]",
                  to_string(shape_of(B)).c_str(), static_cast<long long>(M));
    XHAL_CUDA_TRY(check_kernel_shape(call, at.kernel_shape, at.kernel_shape_count, n, dw));
    Geom g;
    XHAL_CUDA_TRY(convg::geom_basics("conv", dx, &dw.d[2], n, at.strides, at.strides_count,
                                     at.dilations, at.dilations_count, &g));
    XHAL_CUDA_TRY(convg::conv_pool_geom("conv", at.auto_pad, at.pads, at.pads_count, 0, &g));
    Shape expect;
    expect.push_back(N);
    expect.push_back(M);
    for (int i = 0; i < n; ++i) expect.push_back(g.out[3 - n + i]);
    XHAL_CUDA_TRY(check_shape(call, "output Y", Y, expect));
    const int64_t total = expect.numel();
    if (total == 0) return XHAL_OK;
    T* y = data_as<T>(Y);
    const int64_t cg = C / group, mg = M / group;
    const int64_t ks = g.k_size(), is = g.in_size(), os = g.out_size(), kdim = cg * ks;
    double beta = 0.0;
    if (B != nullptr) {
      CompactInput cb;
      XHAL_CUDA_TRY(cb.init(call, B));
      bias_fill_dev<T><<<grid_for(total), 256, 0, call.stream>>>(total, os, M, cb.as<T>(), y);
      XHAL_CUDA_TRY(check_launch(call, "bias"));
      beta = 1.0;
    }
    if (kdim == 0) {  // no input channels: Y is the bias (or zeros)
      if (B == nullptr)
        XHAL_CUDA_CHECK("conv (zero fill)",
                        cudaMemsetAsync(y, 0, sizeof(T) * total, call.stream));
      return XHAL_OK;
    }
    CompactInput cx, cw;
    XHAL_CUDA_TRY(cx.init(call, X));
    XHAL_CUDA_TRY(cw.init(call, W));
    const bool pointwise = ks == 1 && g.s[0] == 1 && g.s[1] == 1 && g.s[2] == 1 &&
                           g.pb[0] == 0 && g.pb[1] == 0 && g.pb[2] == 0 && os == is;
    Scratch col;
    if (!pointwise)
      XHAL_CUDA_TRY(col.alloc(call, sizeof(T) * static_cast<uint64_t>(C * ks * os)));
    for (int64_t img = 0; img < N; ++img) {
      const T* xn = cx.as<T>() + img * C * is;
      const T* bmat = xn;
      if (!pointwise) {
        const int64_t cols = C * ks * os;
        im2col_dev<T><<<grid_for(cols), 256, 0, call.stream>>>(g, cols, xn, col.as<T>());
        XHAL_CUDA_TRY(check_launch(call, "im2col"));
        bmat = col.as<T>();
      }
      XHAL_CUDA_TRY(gemm_batched(call, dt, false, false, mg, os, kdim, 1.0, cw.as<T>(), kdim,
                                 mg * kdim, bmat, os, kdim * os, beta, y + img * M * os, os,
                                 mg * os, group));
    }
    return XHAL_OK;
  });
}

// ---- conv_transpose -------------------------------------------------------------------------
template <class T>
__global__ void conv_transpose_dev(Geom g, int64_t total, int64_t C, int64_t M, int64_t group,
                                   const T* x, const T* w, const T* b, T* y) {
  using F = acc_t<T>;
  const int64_t os = g.out_size(), is = g.in_size(), ks = g.k_size();
  const int64_t cg = C / group, mg = M / group;
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < total;
       u += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = u % os, plane = u / os;
    const int64_t m = plane % M, img = plane / M;
    const int64_t gi = m / mg, ml = m % mg;
    const int64_t ow = o % g.out[2], oh = (o / g.out[2]) % g.out[1], od = o / (g.out[2] * g.out[1]);
    F acc = F(0);
    for (int64_t kd = 0; kd < g.k[0]; ++kd) {
      const int64_t pd = od + g.pb[0] - kd * g.d[0];
      if (pd < 0 || pd % g.s[0] != 0) continue;
      const int64_t id = pd / g.s[0];
      if (id >= g.in[0]) continue;
      for (int64_t kh = 0; kh < g.k[1]; ++kh) {
        const int64_t ph = oh + g.pb[1] - kh * g.d[1];
        if (ph < 0 || ph % g.s[1] != 0) continue;
        const int64_t ih = ph / g.s[1];
        if (ih >= g.in[1]) continue;
        for (int64_t kw = 0; kw < g.k[2]; ++kw) {
          const int64_t pw = ow + g.pb[2] - kw * g.d[2];
          if (pw < 0 || pw % g.s[2] != 0) continue;
          const int64_t iw = pw / g.s[2];
          if (iw >= g.in[2]) continue;
          const int64_t xoff = (id * g.in[1] + ih) * g.in[2] + iw;
          const int64_t koff = (kd * g.k[1] + kh) * g.k[2] + kw;
          for (int64_t cl = 0; cl < cg; ++cl) {
            const int64_t c = gi * cg + cl;
            acc += convert<F>(x[(img * C + c) * is + xoff]) *
                   convert<F>(w[(c * mg + ml) * ks + koff]);
          }
        }
      }
    }
    if (b != nullptr) acc += convert<F>(b[m]);
    y[u] = convert<T>(acc);
  }
}

template <class T>
xhal_status_t conv_transpose_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                    const xhal_tensor_t* W, const xhal_tensor_t* B,
                                    const xhal_conv_transpose_v1_attrs_t* given,
                                    xhal_tensor_t* Y) noexcept {
  return guarded("conv_transpose", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("conv_transpose", ctx, &call));
    constexpr int32_t dt = dtype_of<T>();
    XHAL_CUDA_TRY(check_tensor(call, "input X", X, dt));
    XHAL_CUDA_TRY(check_tensor(call, "input W", W, dt));
    if (B != nullptr) XHAL_CUDA_TRY(check_tensor(call, "input B", B, dt));
    XHAL_CUDA_TRY(check_tensor(call, "output Y", Y, dt));
    const auto at = mv::read_attrs(given, xhal_conv_transpose_v1_attrs_init);
    const Shape dx = shape_of(X), dw = shape_of(W);
    if (dx.rank < 3 || dw.rank != dx.rank)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "conv_transpose: X %s must be [N, C, spatial...] and W %s of the same rank",
                  to_string(dx).c_str(), to_string(dw).c_str());
    const int n = dx.rank - 2;
    const int64_t N = dx[0], C = dx[1], group = at.group;
    if (group < 1 || C % group != 0 || dw[0] != C)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "conv_transpose: group %lld must divide C and W[0] must equal C (X %s, W %s)",
                  static_cast<long long>(group), to_string(dx).c_str(), to_string(dw).c_str());
    const int64_t M = dw[1] * group;
    if (B != nullptr && (shape_of(B).rank != 1 || shape_of(B)[0] != M))
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "conv_transpose: B %s must be [%lld]",
                  to_string(shape_of(B)).c_str(), static_cast<long long>(M));
    XHAL_CUDA_TRY(check_kernel_shape(call, at.kernel_shape, at.kernel_shape_count, n, dw));
    Geom g;
    XHAL_CUDA_TRY(convg::geom_basics("conv_transpose", dx, &dw.d[2], n, at.strides,
                                     at.strides_count, at.dilations, at.dilations_count, &g));
    const char* ap = at.auto_pad != nullptr ? at.auto_pad : "NOTSET";
    const bool same_upper = std::strcmp(ap, "SAME_UPPER") == 0;
    const bool same_lower = std::strcmp(ap, "SAME_LOWER") == 0;
    const bool notset = std::strcmp(ap, "NOTSET") == 0;
    if (!same_upper && !same_lower && !notset && std::strcmp(ap, "VALID") != 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "conv_transpose: auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, "
                  "VALID",
                  ap);
    const int64_t* oshape = at.output_shape;
    int64_t shape_count = at.output_shape_count;
    if (shape_count == n + 2) {
      oshape += 2;
      shape_count = n;
    }
    if ((shape_count != 0 && shape_count != n) ||
        (at.output_padding_count != 0 && at.output_padding_count != n) ||
        (notset && at.pads_count != 0 && at.pads_count != 2 * n))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "conv_transpose: output_shape %s, output_padding %s or pads %s do not match "
                  "the %d spatial axes of X %s",
                  convg::ints_to_string(at.output_shape, at.output_shape_count).c_str(),
                  convg::ints_to_string(at.output_padding, at.output_padding_count).c_str(),
                  convg::ints_to_string(at.pads, at.pads_count).c_str(), n,
                  to_string(dx).c_str());
    for (int i = 0; i < n; ++i) {
      const int a = 3 - n + i;
      const int64_t op = at.output_padding_count ? at.output_padding[i] : 0;
      if (op < 0 || op >= std::max(g.s[a], g.d[a]))
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "conv_transpose: output_padding %lld must be in [0, max(stride %lld, "
                    "dilation %lld))",
                    static_cast<long long>(op), static_cast<long long>(g.s[a]),
                    static_cast<long long>(g.d[a]));
      const int64_t ek = (g.k[a] - 1) * g.d[a] + 1;
      const int64_t natural = g.s[a] * (g.in[a] - 1) + op + ek;
      int64_t o;
      if (shape_count || same_upper || same_lower) {
        o = shape_count ? oshape[i] : g.in[a] * g.s[a];
        const int64_t tot = natural - o;
        const int64_t half = convg::floor_div(tot, 2);
        g.pb[a] = same_upper ? half : tot - half;
        g.pe[a] = tot - g.pb[a];
      } else {
        g.pb[a] = notset && at.pads_count ? at.pads[i] : 0;
        g.pe[a] = notset && at.pads_count ? at.pads[n + i] : 0;
        if (g.pb[a] < 0 || g.pe[a] < 0)
          return fail(XHAL_ERROR_INVALID_ARGUMENT, "conv_transpose: pads %s must not be negative",
                      convg::ints_to_string(at.pads, at.pads_count).c_str());
        o = natural - g.pb[a] - g.pe[a];
      }
      if (o < 0)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "conv_transpose: output size %lld of spatial axis %d is negative",
                    static_cast<long long>(o), i);
      g.out[a] = o;
    }
    Shape expect;
    expect.push_back(N);
    expect.push_back(M);
    for (int i = 0; i < n; ++i) expect.push_back(g.out[3 - n + i]);
    XHAL_CUDA_TRY(check_shape(call, "output Y", Y, expect));
    const int64_t total = expect.numel();
    if (total == 0) return XHAL_OK;
    CompactInput cx, cw, cb;
    XHAL_CUDA_TRY(cx.init(call, X));
    XHAL_CUDA_TRY(cw.init(call, W));
    if (B != nullptr) XHAL_CUDA_TRY(cb.init(call, B));
    conv_transpose_dev<T><<<grid_for(total), 256, 0, call.stream>>>(
        g, total, C, M, group, cx.as<T>(), cw.as<T>(), B != nullptr ? cb.as<T>() : nullptr,
        data_as<T>(Y));
    return check_launch(call, "conv_transpose");
  });
}

constexpr uint32_t kFlags = XHAL_KERNEL_FLAG_STRIDED_INPUTS;

xhal_status_t register_conv_family(const xhal_host_api_t* h, xhal_registry_t r) {
  const char* cv = "cuda.conv";
  XHAL_CUDA_TRY(xhal_register_conv_v1(h, r, conv_kernel<float>, XHAL_DTYPE_FLOAT32, kFlags, cv));
  XHAL_CUDA_TRY(xhal_register_conv_v1(h, r, conv_kernel<double>, XHAL_DTYPE_FLOAT64, kFlags, cv));
  XHAL_CUDA_TRY(xhal_register_conv_v1(h, r, conv_kernel<__half>, XHAL_DTYPE_FLOAT16, kFlags, cv));
  XHAL_CUDA_TRY(
      xhal_register_conv_v1(h, r, conv_kernel<__nv_bfloat16>, XHAL_DTYPE_BFLOAT16, kFlags, cv));
  const char* ct = "cuda.conv_transpose";
  XHAL_CUDA_TRY(xhal_register_conv_transpose_v1(h, r, conv_transpose_kernel<float>,
                                                XHAL_DTYPE_FLOAT32, kFlags, ct));
  XHAL_CUDA_TRY(xhal_register_conv_transpose_v1(h, r, conv_transpose_kernel<double>,
                                                XHAL_DTYPE_FLOAT64, kFlags, ct));
  XHAL_CUDA_TRY(xhal_register_conv_transpose_v1(h, r, conv_transpose_kernel<__half>,
                                                XHAL_DTYPE_FLOAT16, kFlags, ct));
  return xhal_register_conv_transpose_v1(h, r, conv_transpose_kernel<__nv_bfloat16>,
                                         XHAL_DTYPE_BFLOAT16, kFlags, ct);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(conv, register_conv_family);

}  // namespace xhal_cuda
