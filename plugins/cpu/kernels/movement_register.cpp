// The shape and data movement family's registration: one call per kernel file.
#include "kernels.h"
#include "movement.h"

namespace xhal_cpu {

xhal_status_t register_movement_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_concat_kernels(h, r));
  XHAL_CPU_TRY(register_split_kernels(h, r));
  XHAL_CPU_TRY(register_slice_kernels(h, r));
  XHAL_CPU_TRY(register_gather_kernels(h, r));
  XHAL_CPU_TRY(register_movement_view_kernels(h, r));
  XHAL_CPU_TRY(register_expand_kernels(h, r));
  XHAL_CPU_TRY(register_tile_kernels(h, r));
  XHAL_CPU_TRY(register_shape_kernels(h, r));
  XHAL_CPU_TRY(register_range_kernels(h, r));
  return XHAL_OK;
}

}  // namespace xhal_cpu
