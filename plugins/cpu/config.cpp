#include "config.h"

#include <cblas.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "host.h"

namespace xhal_cpu {
namespace {

constexpr long long kMaxThreads = 1024;

// The environment variable `name` as a positive integer (at most `max`), or `fallback` when it
// is unset or empty; anything else is logged (naming the fallback's `unit`) and replaced.
long long positive_setting(const char* name, long long fallback, long long max,
                           const char* unit) {
  const char* env = std::getenv(name);
  if (env == nullptr || *env == '\0') return fallback;
  errno = 0;
  char* end = nullptr;
  const long long n = std::strtoll(env, &end, 10);
  if (errno != 0 || end == env || *end != '\0' || n < 1) {
    log(XHAL_LOG_WARNING, "xhal.cpu: ignoring %s='%s' (not a positive integer); using %lld %s",
        name, env, fallback, unit);
    return fallback;
  }
  return n > max ? max : n;
}

// The size of the data (or unified) cache of `level` that the first CPU sees, from the kernel's
// sysfs; else sysconf's (glibc's reading of CPUID, which on some virtual machines reports an
// AMD L3 ten times its size: 320 MiB for a 32 MiB one); 0 where neither can tell.
int64_t cache_bytes(int level) {
  for (int i = 0; i < 16; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    std::ifstream level_file(dir + "level"), type_file(dir + "type"), size_file(dir + "size");
    int l = 0;
    std::string type, size;
    if (!(level_file >> l)) break;
    if (l != level || !(type_file >> type) || type == "Instruction" || !(size_file >> size))
      continue;
    char* end = nullptr;
    const long long n = std::strtoll(size.c_str(), &end, 10);
    const long long unit = *end == 'K' ? 1024 : *end == 'M' ? 1024 * 1024 : 1;
    if (n > 0) return static_cast<int64_t>(n * unit);
  }
  const long n = sysconf(level == 2 ? _SC_LEVEL2_CACHE_SIZE : _SC_LEVEL3_CACHE_SIZE);
  return n > 0 ? static_cast<int64_t>(n) : 0;
}

}  // namespace

int num_threads() {
  // A function-local static gives thread-safe one-time initialisation, whichever entry point
  // (initialize or a kernel) gets here first.
  static const int threads = [] {
    const unsigned hw = std::thread::hardware_concurrency();
    const long long fallback = hw == 0 ? 1 : (hw > kMaxThreads ? kMaxThreads : hw);
    const int n = static_cast<int>(
        positive_setting("XHAL_CPU_THREADS", fallback, kMaxThreads, "threads"));
    scipy_openblas_set_num_threads(n);
    return n;
  }();
  return threads;
}

int64_t l2_cache_bytes() {
  static const int64_t bytes = [] {
    const int64_t n = cache_bytes(2);
    return n > 0 ? n : int64_t{1} << 20;
  }();
  return bytes;
}

int64_t stream_min_bytes() {
  static const int64_t bytes = [] {
    // AMD's and recent Intel's L3s do not hold copies of what the L2s hold, so the two add up.
    const int64_t caches = cache_bytes(3) + l2_cache_bytes() * num_threads();
    return static_cast<int64_t>(
        positive_setting("XHAL_CPU_STREAM_MIN_BYTES", caches, INT64_MAX, "bytes"));
  }();
  return bytes;
}

}  // namespace xhal_cpu
