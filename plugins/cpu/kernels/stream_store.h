// Streaming (non-temporal) output for large elementwise kernels.
//
// Once a kernel's inputs and output together exceed what the caches can hold (the L3 and the
// threads' L2s: config.h's stream_min_bytes, a setting), its output will not be read back from
// cache, and ordinary stores make each core first read every output line it is about to
// overwrite (read-for-ownership): a third of the memory traffic, wasted. Streaming stores write
// whole lines without reading them. Below that size they lose: the next call (or the next op)
// would have found the data in the L3. Measured on a Zen 4 machine (32 MiB L3, float32, same
// process, against plain stores at 2 threads): relu and add 0.75-0.78x the time at 1e7
// elements, but 2-3x slower at 1e6 and relu 2.2x slower at 3e6 (24 MB), all within the L3; an
// earlier threshold at the L2s' size (D23) streamed those. The stores must fill whole lines at
// full width (vec_math's loops): 16-byte streaming stores were 1.05-1.16x slower than plain ones
// on two threads. Only memory-bound loops gain: float32 exp, streamed from registers, 0.79-0.91x;
// float32 sigmoid (it divides) even; exp and sigmoid through the buffer 1.1-1.3x slower. So
// compute-bound kernels (sigmoid, the other transcendentals, pow, mod) keep plain stores.
#pragma once

#include <algorithm>
#include <cstdint>

namespace xhal_cpu {

// Whether a kernel that touches `bytes` in all (inputs and output) outgrows the caches: its
// data then comes from and goes to memory (stream its output).
bool outgrows_caches(int64_t bytes);

// Copies `bytes` from a small cache-resident buffer to `dst`, streaming every whole 64-byte
// line of `dst` (plain stores for the unaligned ends; plain copies on the baseline path).
void stream_copy(void* dst, const void* src, int64_t bytes);

// Orders this thread's streaming stores before whatever it does next (the thread pool's
// join publishes them to the caller).
void stream_fence();

// Runs compute(block, offset, count) over [0, n) so that it writes out[0, n): directly when
// `stream` is false; otherwise block by block into a 1 KiB buffer that is streamed to `out`.
template <class T, class F>
void write_streamed(bool stream, T* out, int64_t n, F&& compute) {
  if (!stream) {
    compute(out, int64_t{0}, n);
    return;
  }
  constexpr int64_t kBlock = 1024 / sizeof(T) > 0 ? 1024 / sizeof(T) : 1;
  alignas(64) T buf[kBlock];
  for (int64_t off = 0; off < n; off += kBlock) {
    const int64_t m = std::min(kBlock, n - off);
    compute(static_cast<T*>(buf), off, m);
    stream_copy(out + off, buf, m * static_cast<int64_t>(sizeof(T)));
  }
  stream_fence();
}

}  // namespace xhal_cpu
