// npu_sim: reshape v1 — Give a tensor a new shape with the same number of elements.
// Semantics: ONNX Reshape-14; the SDK's docs/ops/reshape.md.
// npu_sim computes float16 and bfloat16; the spec's other dtypes are unsupported
#include <algorithm>
#include <cmath>

#include "common.h"

namespace npu_sim {

xhal_status_t reshape_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* data,
    const xhal_tensor_t* shape,
    const xhal_reshape_v1_attrs_t* attrs,
    xhal_tensor_t* reshaped) {
  (void)shape;  // host_memory: the host already gave `reshaped` its shape
  (void)attrs;
  Tensor x, y;
  xhal_status_t s;
  if ((s = capture("reshape", ctx, data, &x)) || (s = capture("reshape", ctx, reshaped, &y)))
    return s;
  if (x.numel != y.numel || x.dtype != y.dtype)
    return fail_op("reshape", XHAL_ERROR_INVALID_ARGUMENT, "%s and %s differ in size",
                   shape_str(x.shape).c_str(), shape_str(y.shape).c_str());
  const size_t bytes = static_cast<size_t>(x.numel) * xhal_dtype_size(x.dtype);
  if (bytes == 0 || x.data == y.data) return XHAL_OK;
  return launch(ctx, {&x, &y}, [x, y, bytes](std::string&) {
    std::memmove(y.data, x.data, bytes);
    return XHAL_OK;
  });
}

}  // namespace npu_sim
