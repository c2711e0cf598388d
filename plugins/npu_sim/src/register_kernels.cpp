// npu_sim: registers what the device computes. Generated with one line per dtype signature the
// specs admit; trimmed to the device's dtypes: float16 and bfloat16 for every op, float32 only
// for the ops whose float32 runs through the bfloat16 datapath (declared in
// libnpu_sim.xhal-manifest.yaml). Everything else (float64, integers, bool) is unsupported.
#include "kernels.h"
#include "runtime.h"

namespace npu_sim {

#define NPU_SIM_REGISTER(op, dtype, name)                                                    \
  if ((status = xhal_register_##op##_v1(h, registry, &op##_v1, XHAL_DTYPE_##dtype, 0,        \
                                        "npu_sim." #op "." name)) != XHAL_OK)                \
    return status

#define NPU_SIM_REGISTER_HALF(op)            \
  NPU_SIM_REGISTER(op, FLOAT16, "float16");  \
  NPU_SIM_REGISTER(op, BFLOAT16, "bfloat16")

xhal_status_t register_kernels(xhal_registry_t registry) {
  const xhal_host_api_t* h = host();
  xhal_status_t status = XHAL_OK;
  NPU_SIM_REGISTER_HALF(add);
  NPU_SIM_REGISTER_HALF(sub);
  NPU_SIM_REGISTER_HALF(mul);
  NPU_SIM_REGISTER_HALF(div);
  NPU_SIM_REGISTER_HALF(relu);
  NPU_SIM_REGISTER_HALF(sigmoid);
  NPU_SIM_REGISTER_HALF(exp);
  NPU_SIM_REGISTER_HALF(matmul);
  NPU_SIM_REGISTER_HALF(gemm);
  NPU_SIM_REGISTER_HALF(softmax);
  NPU_SIM_REGISTER_HALF(reshape);
  NPU_SIM_REGISTER_HALF(transpose);
  NPU_SIM_REGISTER_HALF(reduce_sum);
  NPU_SIM_REGISTER_HALF(layer_normalization);
  // float32 through bfloat16 (keep in step with libnpu_sim.xhal-manifest.yaml)
  NPU_SIM_REGISTER(add, FLOAT32, "float32");
  NPU_SIM_REGISTER(mul, FLOAT32, "float32");
  NPU_SIM_REGISTER(relu, FLOAT32, "float32");
  NPU_SIM_REGISTER(matmul, FLOAT32, "float32");
  NPU_SIM_REGISTER(gemm, FLOAT32, "float32");
  NPU_SIM_REGISTER(softmax, FLOAT32, "float32");
  return status;
}

#undef NPU_SIM_REGISTER_HALF
#undef NPU_SIM_REGISTER

}  // namespace npu_sim
