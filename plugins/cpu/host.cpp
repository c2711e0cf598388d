#include "host.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>

namespace xhal_cpu {
namespace {

std::atomic<const xhal_host_api_t*> g_host{nullptr};

}  // namespace

const xhal_host_api_t* host() { return g_host.load(std::memory_order_acquire); }

void set_host(const xhal_host_api_t* h) { g_host.store(h, std::memory_order_release); }

xhal_status_t fail(xhal_status_t status, const char* fmt, ...) {
  char msg[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(msg, sizeof(msg), fmt, args);
  va_end(args);
  const xhal_host_api_t* h = host();
  // set_error returns `status` by contract; we return our own copy so a host that gets this
  // wrong cannot turn a failure into success.
  if (h != nullptr && h->set_error != nullptr) h->set_error(status, msg);
  return status;
}

void log(int32_t level, const char* fmt, ...) {
  const xhal_host_api_t* h = host();
  if (h == nullptr || h->log == nullptr) return;
  char msg[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(msg, sizeof(msg), fmt, args);
  va_end(args);
  h->log(level, msg);
}

}  // namespace xhal_cpu
