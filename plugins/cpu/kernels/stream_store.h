// Streaming (non-temporal) output for large elementwise kernels.
//
// Once a kernel's inputs and output together exceed the L2 caches of the threads running it,
// its output will not be read back from cache, and ordinary stores make each core first read
// every output line it is about to overwrite (read-for-ownership): a third of the memory
// traffic, wasted. Streaming stores write whole lines without reading them. Measured on the
// development machine (float32, 1e6 and 1e7 elements, against plain stores): relu, neg, abs and
// mul 0.67-0.85x the time on one thread, 0.78-0.93x on two; below about the L2 size they lose
// (1.2-1.7x at 2.5e5), hence the threshold. The stores must fill whole lines at full width
// (vec_math's loops): 16-byte streaming stores were 1.05-1.16x slower than plain ones on two
// threads. Only memory-bound loops gain: float32 exp, streamed from registers, 0.79-0.91x; float32
// sigmoid (it divides) even; exp and sigmoid through the buffer 1.1-1.3x slower. So
// compute-bound kernels (sigmoid, the other transcendentals, pow, mod) keep plain stores.
#pragma once

#include <algorithm>
#include <cstdint>

namespace xhal_cpu {

// Whether a kernel that touches `bytes` in all (inputs and output) outgrows the L2 caches of
// the threads running it: its data then comes from and goes to memory (stream its output).
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
