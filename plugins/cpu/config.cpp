#include "config.h"

#include <cblas.h>

#include <cerrno>
#include <cstdlib>
#include <thread>

#include "host.h"

namespace xhal_cpu {
namespace {

constexpr long kMaxThreads = 1024;

int read_thread_count() {
  unsigned hw = std::thread::hardware_concurrency();
  int fallback = hw == 0 ? 1 : static_cast<int>(hw > kMaxThreads ? kMaxThreads : hw);
  const char* env = std::getenv("XHAL_CPU_THREADS");
  if (env == nullptr || *env == '\0') return fallback;
  errno = 0;
  char* end = nullptr;
  long n = std::strtol(env, &end, 10);
  if (errno != 0 || end == env || *end != '\0' || n < 1) {
    log(XHAL_LOG_WARNING,
        "xhal.cpu: ignoring XHAL_CPU_THREADS='%s' (not a positive integer); using %d threads", env,
        fallback);
    return fallback;
  }
  return static_cast<int>(n > kMaxThreads ? kMaxThreads : n);
}

}  // namespace

int num_threads() {
  // A function-local static gives thread-safe one-time initialisation, whichever entry point
  // (initialize or a kernel) gets here first.
  static const int threads = [] {
    int n = read_thread_count();
    scipy_openblas_set_num_threads(n);
    return n;
  }();
  return threads;
}

}  // namespace xhal_cpu
