// Registration of every kernel family with the host's registry.
#pragma once

#include <xhal/xhal_abi.h>

namespace xhal_cpu {

xhal_status_t register_binary_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_pow_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_mod_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_minmax_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_compare_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_logic_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_where_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_unary_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_matmul_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_gemm_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_conv_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_conv_transpose_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_pool_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_einsum_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_softmax_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_reshape_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_transpose_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_reduce_sum_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_reduce_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_argminmax_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_cumsum_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_topk_kernels(const xhal_host_api_t* host, xhal_registry_t registry);

xhal_status_t register_norm_layer_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_norm_channel_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_pad_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_resize_kernels(const xhal_host_api_t* host, xhal_registry_t registry);

xhal_status_t register_movement_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_constant_kernels(const xhal_host_api_t* host, xhal_registry_t registry);

// All of the above, stopping at the first failure.
xhal_status_t register_all_kernels(xhal_registry_t registry) noexcept;

}  // namespace xhal_cpu
