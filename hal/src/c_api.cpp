// The C API of libxhal (xhal_runtime.h): a thin, exception-free shell over Runtime.
#include <cstring>
#include <new>

#include <xhal/xhal_runtime.h>

#include "error.h"
#include "runtime.h"

using xhal::Error;
using xhal::Runtime;

struct xhal_runtime_impl {
  Runtime runtime;
};

namespace {

template <typename Body>
xhal_status_t guarded(Body&& body) {
  xhal::clear_last_error();
  try {
    body();
    return XHAL_OK;
  } catch (const Error& e) {
    xhal::set_last_error(e.what());
    return e.status();
  } catch (const std::bad_alloc&) {
    xhal::set_last_error("out of host memory");
    return XHAL_ERROR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    xhal::set_last_error(std::string("internal error: ") + e.what());
    return XHAL_ERROR_INTERNAL;
  } catch (...) {
    xhal::set_last_error("internal error: unknown exception");
    return XHAL_ERROR_INTERNAL;
  }
}

Runtime& rt(xhal_runtime_t runtime) {
  if (!runtime) throw Error(XHAL_ERROR_INVALID_ARGUMENT, "runtime is NULL");
  return runtime->runtime;
}

template <typename T>
void need(T* p, const char* what) {
  if (!p) throw Error(XHAL_ERROR_INVALID_ARGUMENT, std::string(what) + " is NULL");
}

}  // namespace

extern "C" {

const char* xhal_last_error(void) { return xhal::last_error().c_str(); }

xhal_status_t xhal_runtime_create(xhal_runtime_t* runtime) {
  return guarded([&] {
    need(runtime, "runtime");
    *runtime = new xhal_runtime_impl();
  });
}

void xhal_runtime_destroy(xhal_runtime_t runtime) { delete runtime; }

xhal_status_t xhal_runtime_load_plugin(xhal_runtime_t runtime, const char* path) {
  return guarded([&] {
    need(path, "path");
    rt(runtime).load_plugin(path);
  });
}

xhal_status_t xhal_runtime_load_plugins_from_env(xhal_runtime_t runtime) {
  return guarded([&] { rt(runtime).load_plugins_from_env(); });
}

int32_t xhal_runtime_skipped_plugin_count(xhal_runtime_t runtime) {
  return runtime ? static_cast<int32_t>(runtime->runtime.skipped().size()) : 0;
}

const char* xhal_runtime_skipped_plugin(xhal_runtime_t runtime, int32_t index) {
  if (!runtime || index < 0 || index >= xhal_runtime_skipped_plugin_count(runtime)) return "";
  return runtime->runtime.skipped()[index].c_str();
}

int32_t xhal_runtime_plugin_count(xhal_runtime_t runtime) {
  return runtime ? runtime->runtime.plugin_count() : 0;
}

xhal_status_t xhal_runtime_plugin_info(xhal_runtime_t runtime, int32_t index,
                                       const char** device_type, const char** path,
                                       const char** version, int32_t* device_count,
                                       const char** no_device_reason) {
  return guarded([&] {
    const xhal::Plugin& p = rt(runtime).plugin(index);
    if (device_type) *device_type = p.device_type().c_str();
    if (path) *path = p.path().c_str();
    if (version) *version = p.version().c_str();
    if (device_count) *device_count = p.device_count();
    if (no_device_reason) *no_device_reason = p.no_device_reason().c_str();
  });
}

int32_t xhal_runtime_device_count(xhal_runtime_t runtime) {
  return runtime ? runtime->runtime.device_count() : 0;
}

xhal_status_t xhal_runtime_find_device(xhal_runtime_t runtime, const char* device_type,
                                       int32_t index, int32_t* device) {
  return guarded([&] {
    need(device_type, "device_type");
    need(device, "device");
    *device = rt(runtime).find_device(device_type, index);
  });
}

xhal_status_t xhal_device_properties(xhal_runtime_t runtime, int32_t device,
                                     xhal_device_properties_t* props) {
  return guarded([&] {
    need(props, "props");
    const xhal_device_properties_t& have = rt(runtime).device(device).props;
    // Copy only what the caller's (possibly older, smaller) struct can hold.
    const size_t n = props->struct_size < sizeof(have) ? props->struct_size : sizeof(have);
    const size_t caller_size = props->struct_size;
    std::memcpy(props, &have, n);
    props->struct_size = caller_size;
  });
}

xhal_status_t xhal_device_origin(xhal_runtime_t runtime, int32_t device,
                                 const char** device_type, int32_t* local_index,
                                 const char** plugin_path, const char** plugin_version) {
  return guarded([&] {
    const xhal::Device& d = rt(runtime).device(device);
    if (device_type) *device_type = d.plugin->device_type().c_str();
    if (local_index) *local_index = d.local_index;
    if (plugin_path) *plugin_path = d.plugin->path().c_str();
    if (plugin_version) *plugin_version = d.plugin->version().c_str();
  });
}

xhal_status_t xhal_device_memory_stats(xhal_runtime_t runtime, int32_t device,
                                       uint64_t* allocated, uint64_t* cached) {
  return guarded([&] {
    const xhal::Device& d = rt(runtime).device(device);
    if (allocated) *allocated = d.allocator->allocated_bytes();
    if (cached) *cached = d.allocator->cached_bytes();
  });
}

xhal_status_t xhal_device_empty_cache(xhal_runtime_t runtime, int32_t device) {
  return guarded([&] { rt(runtime).device(device).allocator->empty_cache(); });
}

xhal_status_t xhal_device_alloc(xhal_runtime_t runtime, int32_t device, uint64_t size,
                                void** ptr) {
  return guarded([&] {
    need(ptr, "ptr");
    *ptr = rt(runtime).allocate(device, size);
  });
}

xhal_status_t xhal_device_free(xhal_runtime_t runtime, int32_t device, void* ptr) {
  return guarded([&] { rt(runtime).free(device, ptr); });
}

xhal_status_t xhal_copy_to_device(xhal_runtime_t runtime, int32_t device, void* dst,
                                  const void* src, uint64_t size) {
  return guarded([&] { rt(runtime).copy(device, dst, src, size, XHAL_COPY_HOST_TO_DEVICE); });
}

xhal_status_t xhal_copy_to_host(xhal_runtime_t runtime, int32_t device, void* dst,
                                const void* src, uint64_t size) {
  return guarded([&] { rt(runtime).copy(device, dst, src, size, XHAL_COPY_DEVICE_TO_HOST); });
}

xhal_status_t xhal_device_synchronize(xhal_runtime_t runtime, int32_t device) {
  return guarded([&] { rt(runtime).synchronize(device); });
}

xhal_status_t xhal_device_native_stream(xhal_runtime_t runtime, int32_t device,
                                       intptr_t* handle) {
  return guarded([&] {
    need(handle, "handle");
    *handle = rt(runtime).native_stream(device);
  });
}

xhal_status_t xhal_launch(xhal_runtime_t runtime, int32_t device, uint32_t op_id,
                          int32_t op_version, const xhal_tensor_t* const* inputs,
                          int32_t num_inputs, const void* attrs, xhal_tensor_t* const* outputs,
                          int32_t num_outputs) {
  return guarded([&] {
    if (num_inputs > 0) need(inputs, "inputs");
    need(outputs, "outputs");
    rt(runtime).launch(device, op_id, op_version, inputs, num_inputs, attrs, outputs,
                       num_outputs);
  });
}

}  // extern "C"
