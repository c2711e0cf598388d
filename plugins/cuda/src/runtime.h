// The device half of the plugin table: devices, memory, streams and events of the one CPU
// device. Each function is an entry point of the C ABI (noexcept, reports errors via the host).
#pragma once

#include <cuda_runtime_api.h>

#include <xhal/xhal_abi.h>

namespace xhal_cuda {

xhal_status_t initialize() noexcept;
void finalize() noexcept;

xhal_status_t device_count(int32_t* count) noexcept;
xhal_status_t device_get_properties(int32_t device, xhal_device_properties_t* props) noexcept;
xhal_status_t device_synchronize(int32_t device) noexcept;
xhal_status_t device_memory_usage(int32_t device, uint64_t* free_bytes,
                                  uint64_t* total_bytes) noexcept;

xhal_status_t mem_alloc(int32_t device, uint64_t size, uint64_t alignment, void** ptr) noexcept;
xhal_status_t mem_free(int32_t device, void* ptr) noexcept;
xhal_status_t mem_set_async(xhal_stream_t stream, void* dst, int32_t value, uint64_t size) noexcept;
xhal_status_t memcpy_async(xhal_stream_t stream, void* dst, const void* src, uint64_t size,
                           int32_t kind) noexcept;

xhal_status_t stream_create(int32_t device, xhal_stream_t* stream) noexcept;
xhal_status_t stream_destroy(xhal_stream_t stream) noexcept;
xhal_status_t stream_synchronize(xhal_stream_t stream) noexcept;
xhal_status_t stream_query(xhal_stream_t stream) noexcept;
xhal_status_t stream_wait_event(xhal_stream_t stream, xhal_event_t event) noexcept;
xhal_status_t stream_get_native_handle(xhal_stream_t stream, intptr_t* handle) noexcept;

xhal_status_t event_create(int32_t device, uint32_t flags, xhal_event_t* event) noexcept;
xhal_status_t event_destroy(xhal_event_t event) noexcept;
xhal_status_t event_record(xhal_event_t event, xhal_stream_t stream) noexcept;
xhal_status_t event_query(xhal_event_t event) noexcept;
xhal_status_t event_synchronize(xhal_event_t event) noexcept;
xhal_status_t event_elapsed_ms(xhal_event_t start, xhal_event_t end, float* ms) noexcept;

// Bit (1 << dtype) for every dtype some kernel of this plugin takes.
uint64_t supported_dtype_mask();

}  // namespace xhal_cuda

namespace xhal_cuda {

// The CUDA stream behind a plugin stream handle (after checking the handle); nullptr after
// reporting a bad handle through fail().
cudaStream_t native_stream(const char* what, xhal_stream_t stream);

}  // namespace xhal_cuda
