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
#include <string>

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
    const auto at = read_attrs(given, xhal_conv_v1_attrs_init);
    const Shape dx = shape_of(X), dw = shape_of(W);
    const Shape db = B != nullptr ? shape_of(B) : Shape();
    Geom g;
    std::vector<int64_t> shape;
    std::string err;
    XHAL_CUDA_TRY(convg::kit_status(
        "conv",
        xhal::kit::conv_geometry(dx.d, dx.rank, dw.d, dw.rank, B != nullptr ? db.d : nullptr,
                                 db.rank, at, &g, &shape, &err),
        err));
    const int64_t N = dx[0], C = dx[1], M = dw[0], group = at.group;
    const Shape expect = xhal::kit::to_shape<Shape>(shape);
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
    const auto at = read_attrs(given, xhal_conv_transpose_v1_attrs_init);
    const Shape dx = shape_of(X), dw = shape_of(W);
    const Shape db = B != nullptr ? shape_of(B) : Shape();
    Geom g;
    std::vector<int64_t> shape;
    std::string err;
    XHAL_CUDA_TRY(convg::kit_status(
        "conv_transpose",
        xhal::kit::conv_transpose_geometry(dx.d, dx.rank, dw.d, dw.rank,
                                           B != nullptr ? db.d : nullptr, db.rank, at, &g, &shape,
                                           &err),
        err));
    const int64_t C = dx[1], group = at.group, M = shape[1];
    const Shape expect = xhal::kit::to_shape<Shape>(shape);
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
