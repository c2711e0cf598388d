// npu_sim: one typed kernel per op (src/kernels/<op>.cpp) and their registration.
#pragma once

#include <xhal/xhal_ops.h>

namespace npu_sim {

xhal_status_t register_kernels(xhal_registry_t registry);

xhal_status_t add_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* A,
    const xhal_tensor_t* B,
    const xhal_add_v1_attrs_t* attrs,
    xhal_tensor_t* C);

xhal_status_t sub_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* A,
    const xhal_tensor_t* B,
    const xhal_sub_v1_attrs_t* attrs,
    xhal_tensor_t* C);

xhal_status_t mul_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* A,
    const xhal_tensor_t* B,
    const xhal_mul_v1_attrs_t* attrs,
    xhal_tensor_t* C);

xhal_status_t div_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* A,
    const xhal_tensor_t* B,
    const xhal_div_v1_attrs_t* attrs,
    xhal_tensor_t* C);

xhal_status_t relu_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* X,
    const xhal_relu_v1_attrs_t* attrs,
    xhal_tensor_t* Y);

xhal_status_t sigmoid_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* X,
    const xhal_sigmoid_v1_attrs_t* attrs,
    xhal_tensor_t* Y);

xhal_status_t exp_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* X,
    const xhal_exp_v1_attrs_t* attrs,
    xhal_tensor_t* Y);

xhal_status_t matmul_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* A,
    const xhal_tensor_t* B,
    const xhal_matmul_v1_attrs_t* attrs,
    xhal_tensor_t* Y);

xhal_status_t gemm_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* A,
    const xhal_tensor_t* B,
    const xhal_tensor_t* C,
    const xhal_gemm_v1_attrs_t* attrs,
    xhal_tensor_t* Y);

xhal_status_t softmax_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* X,
    const xhal_softmax_v1_attrs_t* attrs,
    xhal_tensor_t* Y);

xhal_status_t reshape_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* data,
    const xhal_tensor_t* shape,
    const xhal_reshape_v1_attrs_t* attrs,
    xhal_tensor_t* reshaped);

xhal_status_t transpose_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* data,
    const xhal_transpose_v1_attrs_t* attrs,
    xhal_tensor_t* transposed);

xhal_status_t reduce_sum_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* data,
    const xhal_tensor_t* axes,
    const xhal_reduce_sum_v1_attrs_t* attrs,
    xhal_tensor_t* reduced);

// Added by hand after generation (the op was in the standard by then).
xhal_status_t layer_normalization_v1(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                     const xhal_tensor_t* Scale, const xhal_tensor_t* B,
                                     const xhal_layer_normalization_v1_attrs_t* attrs,
                                     xhal_tensor_t* Y, xhal_tensor_t* Mean,
                                     xhal_tensor_t* InvStdDev);

}  // namespace npu_sim
