// Process-wide settings of the plugin, read once from the environment, and the machine's
// figures they default to.
#pragma once

#include <cstdint>

namespace xhal_cpu {

// Worker threads used by kernels (and by OpenBLAS): XHAL_CPU_THREADS when set to a positive
// integer, else std::thread::hardware_concurrency(). The first call also configures OpenBLAS.
int num_threads();

// One core's L2 cache in bytes (sysfs, else sysconf; 1 MiB where neither can tell).
int64_t l2_cache_bytes();

// Memory-bound elementwise kernels that touch more bytes than this (inputs and output) write
// their output with streaming stores (kernels/stream_store.h): XHAL_CPU_STREAM_MIN_BYTES when
// set to a positive integer, else what the caches can hold, the L3 plus the threads' L2s (the
// L2s alone where the L3's size is unknown). Tests set it low to reach the streaming loops.
int64_t stream_min_bytes();

}  // namespace xhal_cpu
