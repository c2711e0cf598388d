#include "error.h"

namespace xhal {
namespace {
thread_local std::string t_last_error;
thread_local std::string t_plugin_error;  // set by host->set_error, consumed by check_plugin_status
}  // namespace

void set_last_error(const std::string& message) { t_last_error = message; }
const std::string& last_error() { return t_last_error; }
void clear_last_error() { t_last_error.clear(); }

void set_plugin_error(const char* message) { t_plugin_error = message ? message : ""; }

void check_plugin_status(xhal_status_t status, const std::string& context) {
  std::string detail;
  detail.swap(t_plugin_error);
  if (status == XHAL_OK) return;
  if (detail.empty()) detail = std::string(status_name(status)) + " (the plugin gave no message)";
  throw Error(status, context + ": " + detail);
}

const char* status_name(xhal_status_t status) {
  switch (status) {
    case XHAL_OK: return "ok";
    case XHAL_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case XHAL_ERROR_OUT_OF_MEMORY: return "out of memory";
    case XHAL_ERROR_UNSUPPORTED: return "unsupported";
    case XHAL_ERROR_NOT_READY: return "not ready";
    case XHAL_ERROR_DEVICE: return "device error";
    case XHAL_ERROR_INTERNAL: return "internal error";
    case XHAL_ERROR_ABI_MISMATCH: return "ABI mismatch";
  }
  return "unknown status";
}

}  // namespace xhal
