// npu_sim: elementwise ops — multidirectional broadcasting for binary ops, float32 arithmetic.
#pragma once

#include "common.h"

namespace npu_sim {

enum class BinaryOp { kAdd, kSub, kMul, kDiv };
enum class UnaryOp { kRelu, kSigmoid, kExp };

xhal_status_t binary(const char* op, BinaryOp kind, const xhal_kernel_context_t* ctx,
                     const xhal_tensor_t* A, const xhal_tensor_t* B, xhal_tensor_t* C);
xhal_status_t unary(const char* op, UnaryOp kind, const xhal_kernel_context_t* ctx,
                    const xhal_tensor_t* X, xhal_tensor_t* Y);

}  // namespace npu_sim
