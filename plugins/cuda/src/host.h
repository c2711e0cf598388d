// The host table this plugin was loaded with and the error helpers every entry point uses.
// Nothing may throw across the C boundary, so each entry point runs its body in guarded();
// CUDA failures become statuses carrying CUDA's own message (check_cuda / XHAL_CUDA_TRY).
#pragma once

#include <cuda_runtime_api.h>

#include <exception>
#include <new>

#include <xhal/xhal_abi.h>

// Returns from the enclosing function when `expr` (an xhal_status_t) is not XHAL_OK.
#define XHAL_CUDA_TRY(expr)           \
  do {                                \
    const xhal_status_t st_ = (expr); \
    if (st_ != XHAL_OK) return st_;   \
  } while (0)

// Returns from the enclosing function when the CUDA call `expr` fails, with CUDA's message.
#define XHAL_CUDA_CHECK(what, expr) XHAL_CUDA_TRY(::xhal_cuda::check_cuda((what), (expr)))

namespace xhal_cuda {

const xhal_host_api_t* host();
void set_host(const xhal_host_api_t* host);

// Formats a message, hands it to host->set_error and returns `status`.
xhal_status_t fail(xhal_status_t status, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

// Logs through host->log when the host provides it.
void log(int32_t level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// XHAL_OK for cudaSuccess; otherwise "<what>: <CUDA error name>: <CUDA message>" with the
// status that fits (out of memory, invalid argument, or a device failure). Clears CUDA's
// non-sticky last error so that one failure is not reported again by the next call.
xhal_status_t check_cuda(const char* what, cudaError_t err);

// Runs `body` and turns any escaping exception into a status naming `what`.
template <class F>
xhal_status_t guarded(const char* what, F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(XHAL_ERROR_OUT_OF_MEMORY, "%s: out of host memory", what);
  } catch (const std::exception& e) {
    return fail(XHAL_ERROR_INTERNAL, "%s: internal error: %s", what, e.what());
  } catch (...) {
    return fail(XHAL_ERROR_INTERNAL, "%s: internal error (unknown exception)", what);
  }
}

}  // namespace xhal_cuda
