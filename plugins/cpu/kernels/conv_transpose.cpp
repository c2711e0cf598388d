// conv_transpose (ONNX ConvTranspose-22), 1-D to 3-D. Per image and group one GEMM
// col[(m, k...), i...] = W_g^T X_g, then col2im scatters every column entry to output position
// i * stride + k * dilation - pad_begin (dropped outside the output), threaded over output
// channels (each owns its output plane); the bias is added last. float16/bfloat16 in float32.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "conv_common.h"
#include "gemm_core.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

using convk::BF16;
using convk::Elem;
using convk::F_of;
using convk::Geom;
using convk::valid_range;

constexpr const char* kOp = "conv_transpose";

// y[m plane] += scatter of col rows (m, kd, kh, kw) over input positions. Geometry: g.in is
// the conv_transpose input, g.out its output.
template <class F>
XHAL_CPU_SIMD_CLONES void col2im_plane(const Geom& g, const F* col_m, F* y) {
  const int64_t is = g.in_size();
  for (int64_t kd = 0; kd < g.k[0]; ++kd)
    for (int64_t kh = 0; kh < g.k[1]; ++kh)
      for (int64_t kw = 0; kw < g.k[2]; ++kw) {
        const F* src = col_m + ((kd * g.k[1] + kh) * g.k[2] + kw) * is;
        const int64_t off = kw * g.d[2] - g.pb[2];
        int64_t lo, hi;
        valid_range(g.in[2], g.out[2], g.s[2], off, &lo, &hi);
        if (lo >= hi) continue;
        const int64_t sw = g.s[2];
        for (int64_t id = 0; id < g.in[0]; ++id) {
          const int64_t od = id * g.s[0] - g.pb[0] + kd * g.d[0];
          if (od < 0 || od >= g.out[0]) continue;
          for (int64_t ih = 0; ih < g.in[1]; ++ih) {
            const int64_t oh = ih * g.s[1] - g.pb[1] + kh * g.d[1];
            if (oh < 0 || oh >= g.out[1]) continue;
            const F* s = src + (id * g.in[1] + ih) * g.in[2];
            F* dst = y + (od * g.out[1] + oh) * g.out[2] + off;
            if (sw == 1)
              for (int64_t iw = lo; iw < hi; ++iw) dst[iw] += s[iw];
            else
              for (int64_t iw = lo; iw < hi; ++iw) dst[iw * sw] += s[iw];
          }
        }
      }
}

template <class F>
void run(const Geom& g, int64_t N, int64_t C, int64_t M, int64_t group, const F* x, const F* w,
         const F* b, F* y) {
  const int64_t cg = C / group, mg = M / group;
  const int64_t ks = g.k_size(), is = g.in_size(), os = g.out_size();
  const int64_t rows = mg * ks;
  std::fill(y, y + N * M * os, F(0));
  F* col = convk::scratch<F>(static_cast<size_t>(std::max<int64_t>(rows * is, 1)));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t gi = 0; gi < group; ++gi) {
      const F* xg = x + (n * C + gi * cg) * is;
      const F* wg = w + gi * cg * rows;  // [cg, mg * ks]
      if constexpr (std::is_same_v<F, float>)
        gemm_f32(true, false, rows, is, cg, 1.f, wg, rows, xg, is, 0.f, col, is);
      else
        gemm_f64(true, false, rows, is, cg, 1., wg, rows, xg, is, 0., col, is);
      F* yg = y + (n * M + gi * mg) * os;
      const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(ks * is, 1));
      parallel_for(mg, grain, [&](int64_t m0, int64_t m1) {
        for (int64_t m = m0; m < m1; ++m) col2im_plane<F>(g, col + m * ks * is, yg + m * os);
      });
    }
  if (b != nullptr)
    for (int64_t p = 0; p < N * M; ++p) {
      const F bv = b[p % M];
      F* o = y + p * os;
      for (int64_t i = 0; i < os; ++i) o[i] += bv;
    }
}

template <class T>
xhal_status_t conv_transpose_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                    const xhal_tensor_t* W, const xhal_tensor_t* B,
                                    const xhal_conv_transpose_v1_attrs_t* given,
                                    xhal_tensor_t* Y) {
  return guarded(kOp, [&] {
    constexpr int32_t dt = Elem<T>::id;
    using F = F_of<T>;
    XHAL_CPU_TRY(check_context(kOp, ctx));
    XHAL_CPU_TRY(check_tensor(kOp, "input X", X, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "input W", W, dt));
    if (B != nullptr) XHAL_CPU_TRY(check_tensor(kOp, "input B", B, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "output Y", Y, dt));
    const xhal_conv_transpose_v1_attrs_t at =
        read_attrs(given, xhal_conv_transpose_v1_attrs_init);
    const Dims dx = dims_of(X), dw = dims_of(W), dy = dims_of(Y);
    const Dims db = B != nullptr ? dims_of(B) : Dims();
    Geom g;
    std::vector<int64_t> shape;
    std::string err;
    XHAL_CPU_TRY(convk::kit_status(
        kOp,
        xhal::kit::conv_transpose_geometry(dx.d, dx.rank, dw.d, dw.rank,
                                           B != nullptr ? db.d : nullptr, db.rank, at, &g, &shape,
                                           &err),
        err));
    const int64_t N = dx[0], C = dx[1], group = at.group, M = shape[1];
    const Dims expect = xhal::kit::to_shape<Dims>(shape);
    if (expect != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "conv_transpose: output Y has shape %s; expected %s",
                  to_string(dy).c_str(), to_string(expect).c_str());
    if (dy.numel() == 0) return XHAL_OK;
    convk::Widened<T> x(data_as<const T>(X), dx.numel()), w(data_as<const T>(W), dw.numel());
    convk::Widened<T> b(B != nullptr ? data_as<const T>(B) : nullptr, B != nullptr ? M : 0);
    convk::Narrowed<T> y(data_as<T>(Y), dy.numel());
    run<F>(g, N, C, M, group, x.get(), w.get(), B != nullptr ? b.get() : nullptr, y.get());
    y.finish();
    return XHAL_OK;
  });
}

}  // namespace

xhal_status_t register_conv_transpose_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  const char* name = "xhal.cpu.conv_transpose";
  XHAL_CPU_TRY(xhal_register_conv_transpose_v1(h, r, conv_transpose_kernel<float>,
                                               XHAL_DTYPE_FLOAT32, 0, name));
  XHAL_CPU_TRY(xhal_register_conv_transpose_v1(h, r, conv_transpose_kernel<double>,
                                               XHAL_DTYPE_FLOAT64, 0, name));
  XHAL_CPU_TRY(xhal_register_conv_transpose_v1(h, r, conv_transpose_kernel<Half>,
                                               XHAL_DTYPE_FLOAT16, 0, name));
  XHAL_CPU_TRY(xhal_register_conv_transpose_v1(h, r, conv_transpose_kernel<BF16>,
                                               XHAL_DTYPE_BFLOAT16, 0, name));
  return XHAL_OK;
}

}  // namespace xhal_cpu
