// npu_sim: reduce_sum v1 — Sum over the given axes.
// Semantics: ONNX ReduceSum-13; the SDK's docs/ops/reduce_sum.md.
// npu_sim computes float16 and bfloat16; the spec's other dtypes are unsupported
#include <algorithm>
#include <cmath>

#include "common.h"

namespace npu_sim {

xhal_status_t reduce_sum_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* data,
    const xhal_tensor_t* axes,
    const xhal_reduce_sum_v1_attrs_t* attrs,
    xhal_tensor_t* reduced) {
  Tensor x, y;
  xhal_status_t s;
  if ((s = capture("reduce_sum", ctx, data, &x)) || (s = capture("reduce_sum", ctx, reduced, &y)))
    return s;
  const int64_t rank = x.rank();
  std::vector<int64_t> list = host_int64s(axes);  // host_memory: read now, on the host
  std::vector<bool> reduce(static_cast<size_t>(rank), false);
  if (list.empty()) {
    if (!attrs->noop_with_empty_axes) reduce.assign(static_cast<size_t>(rank), true);
  }
  for (int64_t a : list) {
    if (a < -rank || a >= rank)
      return fail_op("reduce_sum", XHAL_ERROR_INVALID_ARGUMENT, "axis %lld is out of range for %s",
                     static_cast<long long>(a), shape_str(x.shape).c_str());
    reduce[a < 0 ? a + rank : a] = true;
  }
  // Output strides over the input index (0 along reduced axes): sums land where they belong.
  std::vector<int64_t> out_strides(static_cast<size_t>(rank), 0);
  int64_t stride = 1, out_numel = 1;
  for (int64_t i = rank; i-- > 0;) {
    if (!reduce[i]) {
      out_strides[i] = stride;
      stride *= x.dim(i);
      out_numel *= x.dim(i);
    }
  }
  if (out_numel != y.numel || x.dtype != y.dtype)
    return fail_op("reduce_sum", XHAL_ERROR_INVALID_ARGUMENT, "output %s does not match %s",
                   shape_str(y.shape).c_str(), shape_str(x.shape).c_str());
  return launch(ctx, {&x, &y}, [x, y, out_strides](std::string&) {
    const std::vector<float> v = load(x);
    std::vector<float> out(static_cast<size_t>(y.numel), 0.0f);
    std::vector<int64_t> index(x.shape.size(), 0);
    int64_t o = 0;
    for (int64_t i = 0; i < x.numel; ++i) {
      out[o] += v[i];
      for (size_t d = x.shape.size(); d-- > 0;) {
        o += out_strides[d];
        if (++index[d] < x.shape[d]) break;
        o -= out_strides[d] * x.shape[d];
        index[d] = 0;
      }
    }
    store(y, out);
    return XHAL_OK;
  });
}

}  // namespace npu_sim
