// Kernel families register themselves: each family file defines one registration function and
// names it with XHAL_CUDA_KERNEL_FAMILY, so adding a family is adding a file (no shared list).
#pragma once

#include <xhal/xhal_abi.h>

namespace xhal_cuda {

using RegisterFamilyFn = xhal_status_t (*)(const xhal_host_api_t* host, xhal_registry_t registry);

struct KernelFamily {
  KernelFamily(const char* name, RegisterFamilyFn fn) noexcept;
};

// Registers every family with the host's registry, stopping at the first failure.
xhal_status_t register_all_kernels(xhal_registry_t registry) noexcept;

}  // namespace xhal_cuda

#define XHAL_CUDA_KERNEL_FAMILY(name, fn) \
  static const ::xhal_cuda::KernelFamily xhal_cuda_family_##name(#name, fn)
