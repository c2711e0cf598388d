// reduce_sum over the axes listed in the optional host-memory int64 `axes` input (negative
// axes count from the back; absent or empty means all axes, or the identity when
// noop_with_empty_axes is 1), keeping reduced axes as size 1 when keepdims is 1.
// Accumulation: float32 -> float64, float16/bfloat16 -> float32, float64 -> float64,
// int32/int64 in the unsigned type of their width (wrapping). See reduce_common.h.
#include "reduce_common.h"
#include "reduce_policies.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

using reduce_detail::SumPolicy;

template <class T>
xhal_status_t reduce_sum_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                                const xhal_tensor_t* axes, const xhal_reduce_sum_v1_attrs_t* given,
                                xhal_tensor_t* reduced) {
  return reduce_detail::reduce_kernel<SumPolicy<T>, T>("reduce_sum", ctx, data, axes, given,
                                                        xhal_reduce_sum_v1_attrs_init, reduced);
}

}  // namespace

xhal_status_t register_reduce_sum_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr const char* name = "xhal.cpu.reduce_sum";
  XHAL_CPU_TRY(xhal_register_reduce_sum_v1(h, r, reduce_sum_kernel<float>, XHAL_DTYPE_FLOAT32, 0, name));
  XHAL_CPU_TRY(xhal_register_reduce_sum_v1(h, r, reduce_sum_kernel<double>, XHAL_DTYPE_FLOAT64, 0, name));
  XHAL_CPU_TRY(xhal_register_reduce_sum_v1(h, r, reduce_sum_kernel<Half>, XHAL_DTYPE_FLOAT16, 0, name));
  XHAL_CPU_TRY(xhal_register_reduce_sum_v1(h, r, reduce_sum_kernel<BFloat16>, XHAL_DTYPE_BFLOAT16, 0, name));
  XHAL_CPU_TRY(xhal_register_reduce_sum_v1(h, r, reduce_sum_kernel<int32_t>, XHAL_DTYPE_INT32, 0, name));
  XHAL_CPU_TRY(xhal_register_reduce_sum_v1(h, r, reduce_sum_kernel<int64_t>, XHAL_DTYPE_INT64, 0, name));
  return XHAL_OK;
}

}  // namespace xhal_cpu
