// npu_sim: relu v1 — Rectified linear unit.
// Semantics: ONNX Relu-14; the SDK's docs/ops/relu.md.
// npu_sim computes float16, bfloat16 and float32 via bfloat16 (the manifest); nothing else
#include "elementwise.h"

namespace npu_sim {

xhal_status_t relu_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* X,
    const xhal_relu_v1_attrs_t* attrs,
    xhal_tensor_t* Y) {
  (void)attrs;
  return unary("relu", UnaryOp::kRelu, ctx, X, Y);
}

}  // namespace npu_sim
