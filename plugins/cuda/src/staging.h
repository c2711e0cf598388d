// Pinned host staging for copies between the device and pageable host memory, so that they are
// asynchronous like copies from pinned memory: host-to-device data is copied into a pinned block
// before the call returns (the caller may reuse its buffer at once), device-to-host data lands in
// a pinned block and a stream callback moves it to the caller's buffer in stream order. Blocks
// return to a pool when their copy has run.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include <xhal/xhal_abi.h>

namespace xhal_cuda {

// Largest copy that goes through staging; larger ones use cudaMemcpyAsync on the pageable
// buffer (the driver stages those itself, returning once the source has been read).
constexpr uint64_t kMaxStagedCopy = uint64_t{64} << 20;

// True when `ptr` is host memory CUDA already knows (pinned or registered).
bool is_pinned_host(const void* ptr);

xhal_status_t staged_host_to_device(cudaStream_t stream, void* dst, const void* src,
                                    uint64_t size);
xhal_status_t staged_device_to_host(cudaStream_t stream, void* dst, const void* src,
                                    uint64_t size);

// Frees the cached pinned blocks (at finalize, with no copy in flight).
void release_staging_pool();

}  // namespace xhal_cuda
