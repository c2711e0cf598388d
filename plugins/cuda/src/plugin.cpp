// Entry point of the xhal CUDA plugin: the one exported symbol, returning the plugin table.
#include <cstddef>
#include <cstdio>

#include <xhal/xhal_abi.h>

#include "host.h"
#include "kernels/registry.h"
#include "runtime.h"

#ifndef XHAL_CUDA_VERSION
#define XHAL_CUDA_VERSION "0.1.0"
#endif

namespace xhal_cuda {
namespace {

xhal_status_t register_kernels(xhal_registry_t registry) noexcept {
  return register_all_kernels(registry);
}

const xhal_plugin_api_t kPluginApi = {
    sizeof(xhal_plugin_api_t),
    XHAL_ABI_MAJOR,
    XHAL_ABI_MINOR,
    "xhal.cuda",
    XHAL_CUDA_VERSION,
    initialize,
    finalize,
    device_count,
    device_get_properties,
    device_synchronize,
    device_memory_usage,
    mem_alloc,
    mem_free,
    mem_set_async,
    memcpy_async,
    stream_create,
    stream_destroy,
    stream_synchronize,
    stream_query,
    stream_wait_event,
    stream_get_native_handle,
    event_create,
    event_destroy,
    event_record,
    event_query,
    event_synchronize,
    event_elapsed_ms,
    register_kernels,
};

}  // namespace
}  // namespace xhal_cuda

extern "C" XHAL_EXPORT const xhal_plugin_api_t* xhal_get_plugin_api(const xhal_host_api_t* host) {
  if (host == nullptr) return nullptr;  // nobody to report to
  // set_error is a 1.0 field; a table too short to hold it cannot be used at all.
  if (host->struct_size < offsetof(xhal_host_api_t, set_error) + sizeof(host->set_error) ||
      host->set_error == nullptr)
    return nullptr;
  if (host->abi_major != XHAL_ABI_MAJOR) {
    char msg[160];
    std::snprintf(msg, sizeof msg,
                  "xhal.cuda plugin implements ABI %d.%d but the host speaks ABI %u.%u",
                  XHAL_ABI_MAJOR, XHAL_ABI_MINOR, static_cast<unsigned>(host->abi_major),
                  static_cast<unsigned>(host->abi_minor));
    host->set_error(XHAL_ERROR_ABI_MISMATCH, msg);
    return nullptr;
  }
  if (!XHAL_FIELD_PRESENT(host, xhal_host_api_t, register_kernel)) {
    host->set_error(XHAL_ERROR_ABI_MISMATCH,
                    "xhal.cuda plugin: host table is shorter than ABI 1.0 requires");
    return nullptr;
  }
  xhal_cuda::set_host(host);
  return &xhal_cuda::kPluginApi;
}
