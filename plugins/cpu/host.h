// The host table this plugin was loaded with, and the error-reporting helpers every entry point
// uses. Nothing may throw across the C boundary, so each entry point runs its body in guarded().
#pragma once

#include <exception>
#include <new>

#include <xhal/xhal_abi.h>

// Returns from the enclosing function when `expr` is not XHAL_OK.
#define XHAL_CPU_TRY(expr)            \
  do {                                \
    const xhal_status_t st_ = (expr); \
    if (st_ != XHAL_OK) return st_;   \
  } while (0)

namespace xhal_cpu {

// The host table kept from xhal_get_plugin_api (NULL before that).
const xhal_host_api_t* host();
void set_host(const xhal_host_api_t* host);

// Formats a message, hands it to host->set_error and returns `status`.
xhal_status_t fail(xhal_status_t status, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

// Logs through host->log when the host provides it.
void log(int32_t level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Runs `body` (returning xhal_status_t) and turns any escaping exception into a status with a
// message naming `what`, so exceptions never cross the C boundary.
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

}  // namespace xhal_cpu
