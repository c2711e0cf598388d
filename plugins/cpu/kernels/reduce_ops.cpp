// reduce_mean, reduce_max, reduce_min and reduce_prod (ONNX ReduceMean-18, ReduceMax-20,
// ReduceMin-20, ReduceProd-18) on the engine of reduce_common.h; the policies (accumulator
// types, empty-set results, NaN) are in reduce_policies.h.
#include "kernels.h"
#include "reduce_common.h"
#include "reduce_policies.h"

namespace xhal_cpu {
namespace {

using reduce_detail::ExtremePolicy;
using reduce_detail::MeanPolicy;
using reduce_detail::ProdPolicy;
using reduce_detail::reduce_kernel;

template <class T>
xhal_status_t reduce_mean_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                                 const xhal_tensor_t* axes,
                                 const xhal_reduce_mean_v1_attrs_t* given, xhal_tensor_t* out) {
  return reduce_kernel<MeanPolicy<T>, T>("reduce_mean", ctx, data, axes, given,
                                         xhal_reduce_mean_v1_attrs_init, out);
}

template <class T>
xhal_status_t reduce_prod_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                                 const xhal_tensor_t* axes,
                                 const xhal_reduce_prod_v1_attrs_t* given, xhal_tensor_t* out) {
  return reduce_kernel<ProdPolicy<T>, T>("reduce_prod", ctx, data, axes, given,
                                         xhal_reduce_prod_v1_attrs_init, out);
}

template <class T>
xhal_status_t reduce_max_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                                const xhal_tensor_t* axes, const xhal_reduce_max_v1_attrs_t* given,
                                xhal_tensor_t* out) {
  return reduce_kernel<ExtremePolicy<T, true>, T>("reduce_max", ctx, data, axes, given,
                                                  xhal_reduce_max_v1_attrs_init, out);
}

template <class T>
xhal_status_t reduce_min_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                                const xhal_tensor_t* axes, const xhal_reduce_min_v1_attrs_t* given,
                                xhal_tensor_t* out) {
  return reduce_kernel<ExtremePolicy<T, false>, T>("reduce_min", ctx, data, axes, given,
                                                   xhal_reduce_min_v1_attrs_init, out);
}

template <class T>
xhal_status_t register_numeric(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = DType<T>::id;
  XHAL_CPU_TRY(xhal_register_reduce_mean_v1(h, r, reduce_mean_kernel<T>, dt, 0, "xhal.cpu.reduce_mean"));
  XHAL_CPU_TRY(xhal_register_reduce_prod_v1(h, r, reduce_prod_kernel<T>, dt, 0, "xhal.cpu.reduce_prod"));
  return XHAL_OK;
}

template <class T>
xhal_status_t register_extreme(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = DType<T>::id;
  XHAL_CPU_TRY(xhal_register_reduce_max_v1(h, r, reduce_max_kernel<T>, dt, 0, "xhal.cpu.reduce_max"));
  XHAL_CPU_TRY(xhal_register_reduce_min_v1(h, r, reduce_min_kernel<T>, dt, 0, "xhal.cpu.reduce_min"));
  return XHAL_OK;
}

}  // namespace

xhal_status_t register_reduce_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_numeric<float>(h, r));
  XHAL_CPU_TRY(register_numeric<double>(h, r));
  XHAL_CPU_TRY(register_numeric<Half>(h, r));
  XHAL_CPU_TRY(register_numeric<BFloat16>(h, r));
  XHAL_CPU_TRY(register_numeric<int32_t>(h, r));
  XHAL_CPU_TRY(register_numeric<int64_t>(h, r));
  XHAL_CPU_TRY(register_extreme<float>(h, r));
  XHAL_CPU_TRY(register_extreme<double>(h, r));
  XHAL_CPU_TRY(register_extreme<Half>(h, r));
  XHAL_CPU_TRY(register_extreme<BFloat16>(h, r));
  XHAL_CPU_TRY(register_extreme<int8_t>(h, r));
  XHAL_CPU_TRY(register_extreme<uint8_t>(h, r));
  XHAL_CPU_TRY(register_extreme<int32_t>(h, r));
  XHAL_CPU_TRY(register_extreme<int64_t>(h, r));
  XHAL_CPU_TRY(register_extreme<bool>(h, r));
  return XHAL_OK;
}

}  // namespace xhal_cpu
