/*
 * libxhal host API — what a framework integrator links (find_package(xhal) -> xhal::xhal).
 *
 * A runtime owns the loaded plugins, their devices, a caching allocator per device and the
 * kernel registry. Devices are numbered globally across plugins, in load order. Every call
 * returns xhal_status_t; on failure xhal_last_error() holds a one-line message for the calling
 * thread. Nothing here aborts the process.
 */
#ifndef XHAL_RUNTIME_H_
#define XHAL_RUNTIME_H_

#include <xhal/xhal_abi.h>
#include <xhal/xhal_ops.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xhal_runtime_impl* xhal_runtime_t;

/* Message of the last failed call on this thread ("" if none). Valid until the next call. */
XHAL_EXPORT const char* xhal_last_error(void);

XHAL_EXPORT xhal_status_t xhal_runtime_create(xhal_runtime_t* runtime);
XHAL_EXPORT void xhal_runtime_destroy(xhal_runtime_t runtime);

/* Load one plugin library. Refusals (missing file, no entry symbol, other ABI major,
 * duplicate device type) fail with a message naming the file and both versions. */
XHAL_EXPORT xhal_status_t xhal_runtime_load_plugin(xhal_runtime_t runtime, const char* path);

/* Load every plugin found on the colon-separated XHAL_PLUGIN_PATH (files or directories).
 * Plugins that fail are skipped; their reasons are kept (xhal_runtime_skipped_plugin). */
XHAL_EXPORT xhal_status_t xhal_runtime_load_plugins_from_env(xhal_runtime_t runtime);
XHAL_EXPORT int32_t xhal_runtime_skipped_plugin_count(xhal_runtime_t runtime);
XHAL_EXPORT const char* xhal_runtime_skipped_plugin(xhal_runtime_t runtime, int32_t index);

/* Loaded plugins, in load order. A plugin may have zero devices (no driver, no hardware);
 * `no_device_reason` then says why when the plugin told ("" otherwise). Strings live as long
 * as the runtime. */
XHAL_EXPORT int32_t xhal_runtime_plugin_count(xhal_runtime_t runtime);
XHAL_EXPORT xhal_status_t xhal_runtime_plugin_info(xhal_runtime_t runtime, int32_t index,
                                                   const char** device_type, const char** path,
                                                   const char** version, int32_t* device_count,
                                                   const char** no_device_reason);

/* Devices, numbered 0..count-1 across all loaded plugins. */
XHAL_EXPORT int32_t xhal_runtime_device_count(xhal_runtime_t runtime);
/* The `index`-th device of `device_type` (e.g. "xhal.cpu"), as a global device number. */
XHAL_EXPORT xhal_status_t xhal_runtime_find_device(xhal_runtime_t runtime,
                                                   const char* device_type, int32_t index,
                                                   int32_t* device);
XHAL_EXPORT xhal_status_t xhal_device_properties(xhal_runtime_t runtime, int32_t device,
                                                 xhal_device_properties_t* props);
/* Which plugin serves `device`: its device type ("xhal.cpu"), the plugin's own index for the
 * device, the library path and the plugin's version string. Strings live as long as the runtime. */
XHAL_EXPORT xhal_status_t xhal_device_origin(xhal_runtime_t runtime, int32_t device,
                                             const char** device_type, int32_t* local_index,
                                             const char** plugin_path,
                                             const char** plugin_version);
/* Bytes held by tensors and bytes kept in the caching allocator's free lists. */
XHAL_EXPORT xhal_status_t xhal_device_memory_stats(xhal_runtime_t runtime, int32_t device,
                                                   uint64_t* allocated, uint64_t* cached);
XHAL_EXPORT xhal_status_t xhal_device_empty_cache(xhal_runtime_t runtime, int32_t device);

/* Memory through the device's caching allocator. */
XHAL_EXPORT xhal_status_t xhal_device_alloc(xhal_runtime_t runtime, int32_t device,
                                            uint64_t size, void** ptr);
XHAL_EXPORT xhal_status_t xhal_device_free(xhal_runtime_t runtime, int32_t device, void* ptr);
/* Blocking copies on the device's default stream. */
XHAL_EXPORT xhal_status_t xhal_copy_to_device(xhal_runtime_t runtime, int32_t device,
                                              void* dst, const void* src, uint64_t size);
XHAL_EXPORT xhal_status_t xhal_copy_to_host(xhal_runtime_t runtime, int32_t device, void* dst,
                                            const void* src, uint64_t size);
XHAL_EXPORT xhal_status_t xhal_device_synchronize(xhal_runtime_t runtime, int32_t device);
/* The device's default stream as the plugin's native handle (a cudaStream_t for xhal.cuda), so
 * a framework can enqueue its own work on it and exchange tensors without synchronising.
 * XHAL_ERROR_UNSUPPORTED where the plugin has no native stream. */
XHAL_EXPORT xhal_status_t xhal_device_native_stream(xhal_runtime_t runtime, int32_t device,
                                                    intptr_t* handle);

/* Run one op on `device`'s default stream (asynchronously; synchronise to read results).
 * `inputs` has one entry per spec input (NULL for an absent optional one), `outputs` one per
 * spec output, already allocated with the shapes the spec's shape rules give. `attrs` points
 * to the op's xhal_<op>_v<N>_attrs_t (NULL: the spec's defaults). The kernel is chosen by the
 * dtypes of the operands bound to each type variable. */
XHAL_EXPORT xhal_status_t xhal_launch(xhal_runtime_t runtime, int32_t device, uint32_t op_id,
                                      int32_t op_version, const xhal_tensor_t* const* inputs,
                                      int32_t num_inputs, const void* attrs,
                                      xhal_tensor_t* const* outputs, int32_t num_outputs);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* XHAL_RUNTIME_H_ */
