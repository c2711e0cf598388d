// npu_sim: gemm v1 — General matrix multiplication Y = alpha * op(A) * op(B) + beta * C.
// Semantics: ONNX Gemm-13; the SDK's docs/ops/gemm.md.
// npu_sim computes float16, bfloat16 and float32 via bfloat16 (the manifest); nothing else
#include <algorithm>
#include <cmath>

#include "common.h"

namespace npu_sim {

xhal_status_t gemm_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* A,
    const xhal_tensor_t* B,
    const xhal_tensor_t* C,
    const xhal_gemm_v1_attrs_t* attrs,
    xhal_tensor_t* Y) {
  Tensor a, b, c, y;
  xhal_status_t s;
  if ((s = capture("gemm", ctx, A, &a)) || (s = capture("gemm", ctx, B, &b)) ||
      (s = capture("gemm", ctx, C, &c)) || (s = capture("gemm", ctx, Y, &y)))
    return s;
  if (a.rank() != 2 || b.rank() != 2 || y.rank() != 2)
    return fail_op("gemm", XHAL_ERROR_INVALID_ARGUMENT, "A %s and B %s must be 2-D",
                   shape_str(a.shape).c_str(), shape_str(b.shape).c_str());
  const bool ta = attrs->trans_a != 0, tb = attrs->trans_b != 0;
  const float alpha = attrs->alpha, beta = attrs->beta;  // copied: attrs die with the call
  const int64_t M = ta ? a.dim(1) : a.dim(0), K = ta ? a.dim(0) : a.dim(1);
  const int64_t N = tb ? b.dim(0) : b.dim(1), KB = tb ? b.dim(1) : b.dim(0);
  if (K != KB || y.dim(0) != M || y.dim(1) != N)
    return fail_op("gemm", XHAL_ERROR_INVALID_ARGUMENT, "A %s, B %s (trans %d %d) and Y %s differ",
                   shape_str(a.shape).c_str(), shape_str(b.shape).c_str(), ta, tb,
                   shape_str(y.shape).c_str());
  const bool has_c = c.dtype != XHAL_DTYPE_UNDEFINED;
  if (has_c) {
    bool ok = c.rank() <= 2;
    for (int64_t i = 0; ok && i < c.rank(); ++i) {
      const int64_t want = y.dim(2 - c.rank() + i);
      ok = c.dim(i) == want || c.dim(i) == 1;
    }
    if (!ok)
      return fail_op("gemm", XHAL_ERROR_INVALID_ARGUMENT, "C %s does not broadcast to %s",
                     shape_str(c.shape).c_str(), shape_str(y.shape).c_str());
  }
  const Task task = [a, b, c, y, has_c, ta, tb, alpha, beta, M, N, K](std::string&) {
    const std::vector<float> va = load(a), vb = load(b);
    std::vector<float> out(static_cast<size_t>(M * N), 0.0f);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k) {
        const float x = ta ? va[k * M + m] : va[m * K + k];
        for (int64_t n = 0; n < N; ++n) out[m * N + n] += x * (tb ? vb[n * K + k] : vb[k * N + n]);
      }
    for (float& v : out) v *= alpha;
    if (has_c && beta != 0.0f) {
      const std::vector<float> vc = load(c);
      const std::vector<int64_t> sc = broadcast_strides(c.shape, y.shape);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) out[m * N + n] += beta * vc[m * sc[0] + n * sc[1]];
    }
    store(y, out);
    return XHAL_OK;
  };
  return launch(ctx, {&a, &b, &c, &y}, task);
}

}  // namespace npu_sim
