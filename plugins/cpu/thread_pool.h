// A small fork-join pool for data-parallel kernel loops. Work is split into contiguous ranges;
// the calling thread takes part, so a kernel still completes before it returns (the stream
// model of this plugin is "run now on the calling thread").
#pragma once

#include <cstdint>
#include <exception>
#include <type_traits>

namespace xhal_cpu {

// Loops below this many elements of work are not worth waking other threads for.
constexpr int64_t kParallelGrain = 32 * 1024;

namespace detail {
using RangeFn = void (*)(void* ctx, int64_t begin, int64_t end);
// Runs fn over [0, n) split into at most `max_chunks` ranges. Rethrows the first exception a
// range threw, on the calling thread.
void parallel_run(int64_t n, int64_t max_chunks, RangeFn fn, void* ctx);
}  // namespace detail

// Calls f(begin, end) over disjoint ranges covering [0, n), in parallel when n is at least
// 2 * grain and the pool is free (a busy pool or a nested call runs serially instead of
// waiting, so concurrent host threads never deadlock).
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (n < 2 * grain) {
    f(int64_t{0}, n);
    return;
  }
  using Fn = std::remove_reference_t<F>;
  auto call = [](void* ctx, int64_t b, int64_t e) { (*static_cast<Fn*>(ctx))(b, e); };
  detail::parallel_run(n, n / grain, call, const_cast<void*>(static_cast<const void*>(&f)));
}

// Makes the workers sleep now rather than poll for the next job: for a kernel about to hand its
// work to OpenBLAS, whose threads need the cores.
void park_thread_pool();

// Joins the worker threads (plugin finalize). A later parallel_for starts them again.
void shutdown_thread_pool();

}  // namespace xhal_cpu
