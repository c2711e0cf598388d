// npu_sim: sigmoid v1 — Logistic sigmoid.
// Semantics: ONNX Sigmoid-13; the SDK's docs/ops/sigmoid.md.
// npu_sim computes float16 and bfloat16; the spec's other dtypes are unsupported
#include "elementwise.h"

namespace npu_sim {

xhal_status_t sigmoid_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* X,
    const xhal_sigmoid_v1_attrs_t* attrs,
    xhal_tensor_t* Y) {
  (void)attrs;
  return unary("sigmoid", UnaryOp::kSigmoid, ctx, X, Y);
}

}  // namespace npu_sim
