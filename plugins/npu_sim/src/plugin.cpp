// npu_sim: the plugin's one exported symbol. It checks the host's ABI major, keeps the host
// table and returns this plugin's table.
#include <cstring>

#include <xhal/xhal_abi.h>

#include "kernels.h"
#include "runtime.h"

namespace {

xhal_plugin_api_t g_api;

}  // namespace

extern "C" XHAL_EXPORT const xhal_plugin_api_t* xhal_get_plugin_api(const xhal_host_api_t* host) {
  if (host == nullptr) return nullptr;
  if (host->abi_major != XHAL_ABI_MAJOR) {
    host->set_error(XHAL_ERROR_ABI_MISMATCH,
                    "npu_sim was built for another xhal ABI major; rebuild it against this SDK");
    return nullptr;
  }
  npu_sim::set_host(host);
  std::memset(&g_api, 0, sizeof(g_api));
  g_api.struct_size = sizeof(g_api);
  g_api.abi_major = XHAL_ABI_MAJOR;
  g_api.abi_minor = XHAL_ABI_MINOR;
  g_api.device_type = "xhal.npu_sim";  // namespaced: "<vendor>.<kind>"
  g_api.plugin_version = "0.1.0";
  npu_sim::fill_runtime(&g_api);
  g_api.register_kernels = &npu_sim::register_kernels;
  return &g_api;
}
