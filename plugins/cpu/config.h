// Process-wide settings of the plugin, read once from the environment.
#pragma once

namespace xhal_cpu {

// Worker threads used by kernels (and by OpenBLAS): XHAL_CPU_THREADS when set to a positive
// integer, else std::thread::hardware_concurrency(). The first call also configures OpenBLAS.
int num_threads();

}  // namespace xhal_cpu
