#include "kernels.h"

#include "../host.h"

namespace xhal_cpu {

xhal_status_t register_all_kernels(xhal_registry_t registry) noexcept {
  return guarded("register_kernels", [&] {
    const xhal_host_api_t* h = host();
    if (h == nullptr || h->register_kernel == nullptr)
      return fail(XHAL_ERROR_INTERNAL, "register_kernels: the host gave no register_kernel");
    using RegisterFn = xhal_status_t (*)(const xhal_host_api_t*, xhal_registry_t);
    const RegisterFn families[] = {
        register_pow_kernels,
        register_mod_kernels,
        register_minmax_kernels,
        register_compare_kernels,
        register_logic_kernels,
        register_where_kernels,
        register_conv_kernels,      register_conv_transpose_kernels, register_pool_kernels,
        register_einsum_kernels,
        register_binary_kernels,    register_unary_kernels,      register_matmul_kernels,
        register_gemm_kernels,      register_softmax_kernels,    register_reshape_kernels,
        register_transpose_kernels, register_reduce_sum_kernels,
        register_movement_kernels,  register_constant_kernels,
        register_reduce_kernels,    register_argminmax_kernels,  register_cumsum_kernels,
        register_topk_kernels,
        register_norm_layer_kernels, register_norm_channel_kernels,
        register_pad_kernels, register_resize_kernels,
    };
    for (RegisterFn fn : families) {
      const xhal_status_t st = fn(h, registry);
      if (st != XHAL_OK) return st;  // the host's register_kernel has said why
    }
    return XHAL_OK;
  });
}

}  // namespace xhal_cpu
