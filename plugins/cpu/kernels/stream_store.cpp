#include "stream_store.h"

#include <unistd.h>

#include <cstring>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include "../config.h"

namespace xhal_cpu {
namespace {

int64_t l2_bytes() {
  // glibc reads the size from CPUID; 0 or -1 where it cannot tell.
  static const int64_t bytes = [] {
    const long n = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return n > 0 ? static_cast<int64_t>(n) : int64_t{1} << 20;
  }();
  return bytes;
}

}  // namespace

bool outgrows_caches(int64_t bytes) { return bytes > l2_bytes() * num_threads(); }

void stream_copy(void* dst, const void* src, int64_t bytes) {
  auto* d = static_cast<char*>(dst);
  const auto* s = static_cast<const char*>(src);
#if defined(__x86_64__)
  const int64_t head = std::min<int64_t>(bytes, (16 - reinterpret_cast<uintptr_t>(d) % 16) % 16);
  std::memcpy(d, s, static_cast<size_t>(head));
  int64_t i = head;
  for (; i + 16 <= bytes; i += 16)
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + i),
                     _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i)));
  std::memcpy(d + i, s + i, static_cast<size_t>(bytes - i));
#else
  std::memcpy(d, s, static_cast<size_t>(bytes));
#endif
}

void stream_fence() {
#if defined(__x86_64__)
  _mm_sfence();
#endif
}

}  // namespace xhal_cpu
