#include "host.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>

namespace xhal_cuda {
namespace {

std::atomic<const xhal_host_api_t*> g_host{nullptr};

}  // namespace

const xhal_host_api_t* host() { return g_host.load(std::memory_order_acquire); }

void set_host(const xhal_host_api_t* h) { g_host.store(h, std::memory_order_release); }

xhal_status_t fail(xhal_status_t status, const char* fmt, ...) {
  char msg[768];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(msg, sizeof(msg), fmt, args);
  va_end(args);
  const xhal_host_api_t* h = host();
  if (h != nullptr && h->set_error != nullptr) h->set_error(status, msg);
  return status;  // ours, whatever set_error returned
}

void log(int32_t level, const char* fmt, ...) {
  const xhal_host_api_t* h = host();
  if (h == nullptr || h->log == nullptr) return;
  char msg[768];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(msg, sizeof(msg), fmt, args);
  va_end(args);
  h->log(level, msg);
}

xhal_status_t check_cuda(const char* what, cudaError_t err) {
  if (err == cudaSuccess) return XHAL_OK;
  cudaGetLastError();  // consume it: a non-sticky error must not leak into the next call
  xhal_status_t status = XHAL_ERROR_DEVICE;
  if (err == cudaErrorMemoryAllocation) status = XHAL_ERROR_OUT_OF_MEMORY;
  if (err == cudaErrorInvalidValue || err == cudaErrorInvalidDevicePointer ||
      err == cudaErrorInvalidResourceHandle || err == cudaErrorInvalidDevice)
    status = XHAL_ERROR_INVALID_ARGUMENT;
  return fail(status, "%s: %s: %s", what, cudaGetErrorName(err), cudaGetErrorString(err));
}

}  // namespace xhal_cuda
