// npu_sim: the device runtime and the host table the plugin was handed.
//
// What the simulated device looks like to the host:
//  - device memory is a private arena; the addresses handed out are handles inside a reserved
//    PROT_NONE range, so the host faults the moment it dereferences one instead of going
//    through memcpy_async. translate() turns handle (+ offset) into an arena address.
//  - every stream is a queue drained by its own worker thread; nothing device-side runs on the
//    calling thread. Errors of queued work surface at the next synchronisation of that stream.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <xhal/xhal_abi.h>

namespace npu_sim {

const xhal_host_api_t* host();
void set_host(const xhal_host_api_t* host);
// Fills every device-interface entry of the plugin table.
void fill_runtime(xhal_plugin_api_t* api);

// Work queued on a stream. Returns XHAL_OK or an error status with `message` filled; the error
// is reported by the next stream_synchronize (or event/device synchronize) of that stream.
using Task = std::function<xhal_status_t(std::string& message)>;

// Enqueue `task` on `stream` (ctx->stream of a kernel). Fails with a message when the stream
// handle is not one of ours.
xhal_status_t enqueue(xhal_stream_t stream, Task task);

// The arena address of [ptr, ptr + bytes) on `device`, or an error (with a message naming `what`)
// when the range is not inside one live allocation. A NULL ptr with bytes == 0 gives NULL.
xhal_status_t translate(int32_t device, const void* ptr, uint64_t bytes, const char* what,
                        uint8_t** out);

// On the worker: true when the arena range [p, p + bytes) is still inside one live allocation
// (host addresses are always "live"). Queued work checks it before touching device memory.
bool still_live(const uint8_t* p, uint64_t bytes);

}  // namespace npu_sim
