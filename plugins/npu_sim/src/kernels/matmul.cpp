// npu_sim: matmul v1 — Matrix product with NumPy matmul semantics (batched, broadcasting
// batch dimensions).
// Semantics: ONNX MatMul-13; the SDK's docs/ops/matmul.md.
// npu_sim computes float16, bfloat16 and float32 via bfloat16 (the manifest); nothing else
#include <algorithm>
#include <cmath>

#include "common.h"

namespace npu_sim {

xhal_status_t matmul_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* A,
    const xhal_tensor_t* B,
    const xhal_matmul_v1_attrs_t* attrs,
    xhal_tensor_t* Y) {
  (void)attrs;
  Tensor a, b, y;
  xhal_status_t s;
  if ((s = capture("matmul", ctx, A, &a)) || (s = capture("matmul", ctx, B, &b)) ||
      (s = capture("matmul", ctx, Y, &y)))
    return s;
  // numpy.matmul: a 1-D A is a row [1, K], a 1-D B a column [K, 1]; batch dims broadcast.
  std::vector<int64_t> as = a.shape, bs = b.shape;
  if (as.empty() || bs.empty())
    return fail_op("matmul", XHAL_ERROR_INVALID_ARGUMENT, "scalar operand (%s x %s)",
                   shape_str(a.shape).c_str(), shape_str(b.shape).c_str());
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
  if (bs[bs.size() - 2] != K)
    return fail_op("matmul", XHAL_ERROR_INVALID_ARGUMENT, "inner dimensions differ: %s x %s",
                   shape_str(a.shape).c_str(), shape_str(b.shape).c_str());
  std::vector<int64_t> ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  std::vector<int64_t> batch(std::max(ab.size(), bb.size()), 1);
  for (size_t i = 0; i < batch.size(); ++i) {
    const int64_t da = i + ab.size() >= batch.size() ? ab[i + ab.size() - batch.size()] : 1;
    const int64_t db = i + bb.size() >= batch.size() ? bb[i + bb.size() - batch.size()] : 1;
    if (da != db && da != 1 && db != 1)
      return fail_op("matmul", XHAL_ERROR_INVALID_ARGUMENT, "batch dims do not broadcast: %s x %s",
                     shape_str(a.shape).c_str(), shape_str(b.shape).c_str());
    batch[i] = da == 1 ? db : da;
  }
  int64_t batches = 1;
  for (int64_t d : batch) batches *= d;
  if (batches * M * N != y.numel || a.dtype != y.dtype || b.dtype != y.dtype)
    return fail_op("matmul", XHAL_ERROR_INVALID_ARGUMENT, "output %s does not match %s x %s",
                   shape_str(y.shape).c_str(), shape_str(a.shape).c_str(),
                   shape_str(b.shape).c_str());
  return launch(ctx, {&a, &b, &y}, [a, b, y, batch, ab, bb, batches, M, K, N](std::string&) {
    const std::vector<float> va = load(a), vb = load(b);
    const std::vector<int64_t> sa = broadcast_strides(ab, batch), sb = broadcast_strides(bb, batch);
    std::vector<float> out(static_cast<size_t>(y.numel), 0.0f);
    std::vector<float> row(static_cast<size_t>(N));
    for (int64_t t = 0; t < batches; ++t) {
      int64_t oa = 0, ob = 0, rest = t;
      for (size_t d = batch.size(); d-- > 0;) {
        const int64_t i = rest % batch[d];
        rest /= batch[d];
        oa += i * sa[d];
        ob += i * sb[d];
      }
      const float* pa = va.data() + oa * M * K;
      const float* pb = vb.data() + ob * K * N;
      for (int64_t m = 0; m < M; ++m) {
        std::fill(row.begin(), row.end(), 0.0f);
        for (int64_t k = 0; k < K; ++k) {
          const float x = pa[m * K + k];
          const float* pbk = pb + k * N;
          for (int64_t n = 0; n < N; ++n) row[n] += x * pbk[n];
        }
        std::copy(row.begin(), row.end(), out.begin() + (t * M + m) * N);
      }
    }
    store(y, out);
    return XHAL_OK;
  });
}

}  // namespace npu_sim
