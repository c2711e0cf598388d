// conv (ONNX Conv-22), 1-D to 3-D. Per image and group: im2col + OpenBLAS GEMM, the bias
// preloaded into Y as GEMM's beta term. 1x1 stride-1 unpadded convolutions multiply the input
// directly (no im2col). Groups with one input channel each (depthwise) run a direct loop,
// vectorised over the output width, threaded over (image, output channel) planes.
// float16/bfloat16 are widened to float32 once and the result narrowed once; float64 uses
// dgemm. On AVX-512 CPUs (XHAL_CPU_ISA permitting) float32 and the widened types run
// conv_gemm.cpp's implicit GEMM (own micro-kernel, no im2col matrix) instead of im2col + sgemm.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "conv_common.h"
#include "conv_gemm.h"
#include "gemm_core.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

using convk::BF16;
using convk::Elem;
using convk::F_of;
using convk::Geom;
using convk::valid_range;

constexpr const char* kOp = "conv";

template <class F>
void gemm_nn(int64_t M, int64_t N, int64_t K, const F* a, const F* b, F beta, F* c) {
  if constexpr (std::is_same_v<F, float>)
    gemm_f32(false, false, M, N, K, 1.f, a, K, b, N, beta, c, N);
  else
    gemm_f64(false, false, M, N, K, 1., a, K, b, N, beta, c, N);
}

// col[(c, kd, kh, kw), (od, oh, ow)] = x[c, od*s - pb + kd*d, ...] (0 in the padding).
template <class F>
void im2col(const Geom& g, int64_t channels, const F* x, F* col) {
  const int64_t ks = g.k_size(), os = g.out_size(), is = g.in_size();
  const int64_t rows = channels * ks;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(os, 1));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t c = r / ks, t = r % ks;
      const int64_t kd = t / (g.k[1] * g.k[2]), kh = (t / g.k[2]) % g.k[1], kw = t % g.k[2];
      const F* xc = x + c * is;
      F* dst = col + r * os;
      const int64_t offw = kw * g.d[2] - g.pb[2];
      int64_t lo, hi;
      valid_range(g.out[2], g.in[2], g.s[2], offw, &lo, &hi);
      for (int64_t od = 0; od < g.out[0]; ++od) {
        const int64_t id = od * g.s[0] - g.pb[0] + kd * g.d[0];
        for (int64_t oh = 0; oh < g.out[1]; ++oh, dst += g.out[2]) {
          const int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
          if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1] || lo >= hi) {
            std::fill(dst, dst + g.out[2], F(0));
            continue;
          }
          const F* src = xc + (id * g.in[1] + ih) * g.in[2] + offw;
          std::fill(dst, dst + lo, F(0));
          if (g.s[2] == 1) {
            std::memcpy(dst + lo, src + lo, static_cast<size_t>(hi - lo) * sizeof(F));
          } else {
            const int64_t sw = g.s[2];
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * sw];
          }
          std::fill(dst + hi, dst + g.out[2], F(0));
        }
      }
    }
  });
}

// y[m] (one output plane) += sum over taps of w[tap] * x (one input plane); the depthwise path.
template <class F>
XHAL_CPU_SIMD_CLONES void direct_plane(const Geom& g, const F* x, const F* w, F* y) {
  for (int64_t kd = 0; kd < g.k[0]; ++kd)
    for (int64_t kh = 0; kh < g.k[1]; ++kh)
      for (int64_t kw = 0; kw < g.k[2]; ++kw) {
        const F wv = w[(kd * g.k[1] + kh) * g.k[2] + kw];
        const int64_t offw = kw * g.d[2] - g.pb[2];
        int64_t lo, hi;
        valid_range(g.out[2], g.in[2], g.s[2], offw, &lo, &hi);
        if (lo >= hi) continue;
        const int64_t sw = g.s[2];
        for (int64_t od = 0; od < g.out[0]; ++od) {
          const int64_t id = od * g.s[0] - g.pb[0] + kd * g.d[0];
          if (id < 0 || id >= g.in[0]) continue;
          for (int64_t oh = 0; oh < g.out[1]; ++oh) {
            const int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
            if (ih < 0 || ih >= g.in[1]) continue;
            const F* src = x + (id * g.in[1] + ih) * g.in[2] + offw;
            F* dst = y + (od * g.out[1] + oh) * g.out[2];
            if (sw == 1)
              for (int64_t ow = lo; ow < hi; ++ow) dst[ow] += wv * src[ow];
            else
              for (int64_t ow = lo; ow < hi; ++ow) dst[ow] += wv * src[ow * sw];
          }
        }
      }
}

template <class F>
void run_conv(const Geom& g, int64_t N, int64_t C, int64_t M, int64_t group, const F* x,
              const F* w, const F* b, F* y) {
  const int64_t cg = C / group, mg = M / group;
  const int64_t ks = g.k_size(), is = g.in_size(), os = g.out_size();
  const int64_t kdim = cg * ks;
  if constexpr (std::is_same_v<F, float>) {
    if (cg > 1 && convk::conv_gemm_f32_available()) {  // bias fused, no separate pass
      for (int64_t n = 0; n < N; ++n)
        for (int64_t gi = 0; gi < group; ++gi)
          convk::conv_gemm_f32(g, cg, mg, x + (n * C + gi * cg) * is, w + gi * mg * kdim,
                               b != nullptr ? b + gi * mg : nullptr, y + (n * M + gi * mg) * os);
      return;
    }
  }
  // Bias first: the GEMM adds to it (beta 1), the direct loop accumulates into it.
  const int64_t planes = N * M;
  parallel_for(planes, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(os, 1)),
               [&](int64_t p0, int64_t p1) {
                 for (int64_t p = p0; p < p1; ++p)
                   std::fill(y + p * os, y + (p + 1) * os, b != nullptr ? b[p % M] : F(0));
               });
  if (cg == 1) {  // depthwise-like: every output channel reads one input channel
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(os * ks, 1));
    parallel_for(planes, grain, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t n = p / M, m = p % M, c = m / mg;
        direct_plane<F>(g, x + (n * C + c) * is, w + m * ks, y + p * os);
      }
    });
    return;
  }
  const bool pointwise = ks == 1 && g.s[0] == 1 && g.s[1] == 1 && g.s[2] == 1 && g.pb[0] == 0 &&
                         g.pb[1] == 0 && g.pb[2] == 0 && os == is;
  F* col = pointwise ? nullptr : convk::scratch<F>(static_cast<size_t>(kdim * os));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t gi = 0; gi < group; ++gi) {
      const F* xg = x + (n * C + gi * cg) * is;
      const F* bmat = xg;
      if (!pointwise) {
        im2col<F>(g, cg, xg, col);
        bmat = col;
      }
      gemm_nn<F>(mg, os, kdim, w + gi * mg * kdim, bmat, F(1), y + (n * M + gi * mg) * os);
    }
}

template <class T>
xhal_status_t conv_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                          const xhal_tensor_t* W, const xhal_tensor_t* B,
                          const xhal_conv_v1_attrs_t* given, xhal_tensor_t* Y) {
  return guarded(kOp, [&] {
    constexpr int32_t dt = Elem<T>::id;
    using F = F_of<T>;
    XHAL_CPU_TRY(check_context(kOp, ctx));
    XHAL_CPU_TRY(check_tensor(kOp, "input X", X, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "input W", W, dt));
    if (B != nullptr) XHAL_CPU_TRY(check_tensor(kOp, "input B", B, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "output Y", Y, dt));
    const xhal_conv_v1_attrs_t at = read_attrs(given, xhal_conv_v1_attrs_init);
    const Dims dx = dims_of(X), dw = dims_of(W), dy = dims_of(Y);
    const Dims db = B != nullptr ? dims_of(B) : Dims();
    Geom g;
    std::vector<int64_t> shape;
    std::string err;
    XHAL_CPU_TRY(convk::kit_status(
        kOp,
        xhal::kit::conv_geometry(dx.d, dx.rank, dw.d, dw.rank, B != nullptr ? db.d : nullptr,
                                 db.rank, at, &g, &shape, &err),
        err));
    const int64_t N = dx[0], C = dx[1], M = dw[0], group = at.group;
    const Dims expect = xhal::kit::to_shape<Dims>(shape);
    if (expect != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "conv: output Y has shape %s; expected %s",
                  to_string(dy).c_str(), to_string(expect).c_str());
    if (dy.numel() == 0) return XHAL_OK;
    convk::Widened<T> x(data_as<const T>(X), dx.numel()), w(data_as<const T>(W), dw.numel());
    const int64_t nb = B != nullptr ? M : 0;
    convk::Widened<T> b(B != nullptr ? data_as<const T>(B) : nullptr, nb);
    convk::Narrowed<T> y(data_as<T>(Y), dy.numel());
    run_conv<F>(g, N, C, M, group, x.get(), w.get(), B != nullptr ? b.get() : nullptr, y.get());
    y.finish();
    return XHAL_OK;
  });
}

}  // namespace

xhal_status_t register_conv_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  const char* name = "xhal.cpu.conv";
  XHAL_CPU_TRY(xhal_register_conv_v1(h, r, conv_kernel<float>, XHAL_DTYPE_FLOAT32, 0, name));
  XHAL_CPU_TRY(xhal_register_conv_v1(h, r, conv_kernel<double>, XHAL_DTYPE_FLOAT64, 0, name));
  XHAL_CPU_TRY(xhal_register_conv_v1(h, r, conv_kernel<Half>, XHAL_DTYPE_FLOAT16, 0, name));
  XHAL_CPU_TRY(xhal_register_conv_v1(h, r, conv_kernel<BF16>, XHAL_DTYPE_BFLOAT16, 0, name));
  return XHAL_OK;
}

}  // namespace xhal_cpu
