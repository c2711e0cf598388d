// npu_sim: softmax v1 — Softmax along one axis.
// Semantics: ONNX Softmax-13; the SDK's docs/ops/softmax.md.
// npu_sim computes float16, bfloat16 and float32 via bfloat16 (the manifest); nothing else
#include <algorithm>
#include <cmath>

#include "common.h"

namespace npu_sim {

xhal_status_t softmax_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* X,
    const xhal_softmax_v1_attrs_t* attrs,
    xhal_tensor_t* Y) {
  Tensor x, y;
  xhal_status_t s;
  if ((s = capture("softmax", ctx, X, &x)) || (s = capture("softmax", ctx, Y, &y))) return s;
  if (x.shape != y.shape || x.dtype != y.dtype)
    return fail_op("softmax", XHAL_ERROR_INVALID_ARGUMENT, "input %s and output %s differ",
                   shape_str(x.shape).c_str(), shape_str(y.shape).c_str());
  const int64_t rank = x.rank();
  int64_t axis = attrs->axis;
  if (axis < -std::max<int64_t>(rank, 1) || axis >= std::max<int64_t>(rank, 1))
    return fail_op("softmax", XHAL_ERROR_INVALID_ARGUMENT, "axis %lld is out of range for %s",
                   static_cast<long long>(axis), shape_str(x.shape).c_str());
  if (axis < 0) axis += std::max<int64_t>(rank, 1);
  int64_t outer = 1, inner = 1;
  const int64_t n = rank == 0 ? 1 : x.dim(axis);
  for (int64_t i = 0; i < axis && i < rank; ++i) outer *= x.dim(i);
  for (int64_t i = axis + 1; i < rank; ++i) inner *= x.dim(i);
  return launch(ctx, {&x, &y}, [x, y, outer, n, inner](std::string&) {
    std::vector<float> v = load(x);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        float* p = v.data() + o * n * inner + i;
        float mx = -INFINITY;
        for (int64_t k = 0; k < n; ++k) mx = std::max(mx, p[k * inner]);
        float sum = 0.0f;
        for (int64_t k = 0; k < n; ++k) sum += (p[k * inner] = std::exp(p[k * inner] - mx));
        for (int64_t k = 0; k < n; ++k) p[k * inner] /= sum;
      }
    store(y, v);
    return XHAL_OK;
  });
}

}  // namespace npu_sim
