/*
 * xhal plugin ABI — the stable C boundary between libxhal (the host) and a device plugin.
 *
 * Rules that make this header a promise to vendors (docs/abi.md has the long form):
 *  - Pure C. No C++ type, exception or allocator crosses this boundary.
 *  - One exported symbol per plugin: XHAL_PLUGIN_ENTRY_SYMBOL ("xhal_get_plugin_api").
 *  - Every table and argument struct starts with `size_t struct_size`. Fields are only ever
 *    appended; a reader checks XHAL_FIELD_PRESENT() before touching a field added after 1.0.
 *  - ABI major: a break (field removed, reordered or retyped). Refused at load, naming both
 *    versions. ABI minor: an addition. Compatible in both directions within one major.
 *  - A NULL function pointer means "unimplemented"; the host reports it, never calls it.
 *  - Every function returns xhal_status_t. On failure the plugin reports a message through
 *    host->set_error() on the calling thread before returning. Nothing aborts the process.
 *  - Everything device-side is stream-ordered. The host synchronises explicitly.
 *  - Fields are marked [host] when the host fills them and [plugin] when the plugin does.
 */
#ifndef XHAL_ABI_H_
#define XHAL_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XHAL_ABI_MAJOR 1
#define XHAL_ABI_MINOR 0

#if defined(_WIN32)
#define XHAL_EXPORT __declspec(dllexport)
#else
#define XHAL_EXPORT __attribute__((visibility("default")))
#endif

/* True when `field` lies inside the first `s->struct_size` bytes of the struct `*s`. */
#define XHAL_FIELD_PRESENT(s, type, field) \
  ((s)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

/* ---------------------------------------------------------------------------------------------
 * Status codes. Stable numbers; new codes are appended.
 * ------------------------------------------------------------------------------------------- */
typedef enum xhal_status {
  XHAL_OK = 0,
  XHAL_ERROR_INVALID_ARGUMENT = 1, /* bad pointer, shape, dtype, size, handle */
  XHAL_ERROR_OUT_OF_MEMORY = 2,    /* allocation could not be satisfied */
  XHAL_ERROR_UNSUPPORTED = 3,      /* valid request this plugin does not implement */
  XHAL_ERROR_NOT_READY = 4,        /* query: work still pending (not a failure) */
  XHAL_ERROR_DEVICE = 5,           /* the device or its driver failed */
  XHAL_ERROR_INTERNAL = 6,         /* a bug in the plugin or host */
  XHAL_ERROR_ABI_MISMATCH = 7      /* version or struct-size negotiation failed */
} xhal_status_t;

/* ---------------------------------------------------------------------------------------------
 * Element types, numbered exactly as ONNX TensorProto.DataType.
 * ------------------------------------------------------------------------------------------- */
typedef enum xhal_dtype {
  XHAL_DTYPE_UNDEFINED = 0,
  XHAL_DTYPE_FLOAT32 = 1,
  XHAL_DTYPE_UINT8 = 2,
  XHAL_DTYPE_INT8 = 3,
  XHAL_DTYPE_UINT16 = 4,
  XHAL_DTYPE_INT16 = 5,
  XHAL_DTYPE_INT32 = 6,
  XHAL_DTYPE_INT64 = 7,
  XHAL_DTYPE_BOOL = 9,
  XHAL_DTYPE_FLOAT16 = 10,
  XHAL_DTYPE_FLOAT64 = 11,
  XHAL_DTYPE_UINT32 = 12,
  XHAL_DTYPE_UINT64 = 13,
  XHAL_DTYPE_BFLOAT16 = 16
} xhal_dtype_t;

/* ---------------------------------------------------------------------------------------------
 * Tensor descriptor: field-for-field the layout of DLPack's DLTensor (v1), so a DLTensor* may be
 * passed where an xhal_tensor_t* is expected and the reverse. Strides are in elements; NULL
 * strides means compact row-major. `data` is a device address: the host never dereferences it
 * unless the device reports XHAL_DEVICE_FLAG_HOST_ACCESSIBLE.
 * ------------------------------------------------------------------------------------------- */
typedef enum xhal_dl_device_type {
  XHAL_DL_CPU = 1,
  XHAL_DL_CUDA = 2,
  XHAL_DL_CUDA_HOST = 3,
  XHAL_DL_EXT_DEV = 12 /* DLPack's slot for devices it does not name (our NPUs) */
} xhal_dl_device_type_t;

typedef enum xhal_dl_type_code {
  XHAL_DL_INT = 0,
  XHAL_DL_UINT = 1,
  XHAL_DL_FLOAT = 2,
  XHAL_DL_BFLOAT = 4,
  XHAL_DL_BOOL = 6
} xhal_dl_type_code_t;

typedef struct xhal_dl_device {
  int32_t device_type; /* xhal_dl_device_type_t */
  int32_t device_id;
} xhal_dl_device_t;

typedef struct xhal_dl_dtype {
  uint8_t code; /* xhal_dl_type_code_t */
  uint8_t bits;
  uint16_t lanes;
} xhal_dl_dtype_t;

typedef struct xhal_tensor {
  void* data;
  xhal_dl_device_t device;
  int32_t ndim;
  xhal_dl_dtype_t dtype;
  int64_t* shape;
  int64_t* strides; /* elements; NULL = contiguous row-major */
  uint64_t byte_offset;
} xhal_tensor_t;

/* ---------------------------------------------------------------------------------------------
 * Opaque handles, owned by the plugin that created them.
 * ------------------------------------------------------------------------------------------- */
typedef struct xhal_stream_impl* xhal_stream_t;
typedef struct xhal_event_impl* xhal_event_t;
typedef struct xhal_registry_impl* xhal_registry_t; /* host-owned kernel registry */

/* ---------------------------------------------------------------------------------------------
 * Device properties [plugin fills; host sets struct_size].
 * ------------------------------------------------------------------------------------------- */
typedef enum xhal_device_kind {
  XHAL_DEVICE_KIND_CPU = 0,
  XHAL_DEVICE_KIND_GPU = 1,
  XHAL_DEVICE_KIND_NPU = 2,
  XHAL_DEVICE_KIND_OTHER = 3
} xhal_device_kind_t;

enum {
  /* The host may read and write device addresses directly (CPU, unified memory). */
  XHAL_DEVICE_FLAG_HOST_ACCESSIBLE = 1u << 0,
  /* The host's caching allocator may sub-allocate blocks this device hands out. */
  XHAL_DEVICE_FLAG_HOST_MAY_SUBALLOCATE = 1u << 1,
  /* Streams run work asynchronously with respect to the calling thread. */
  XHAL_DEVICE_FLAG_ASYNC_STREAMS = 1u << 2
};

typedef struct xhal_device_properties {
  size_t struct_size;           /* [host] */
  char name[64];                /* [plugin] e.g. "Zen 5 (2 cores)" */
  char vendor[64];              /* [plugin] */
  int32_t kind;                 /* [plugin] xhal_device_kind_t */
  int32_t dlpack_device_type;   /* [plugin] xhal_dl_device_type_t used in tensors */
  uint64_t total_memory;        /* [plugin] bytes */
  uint64_t alignment;           /* [plugin] minimum alignment of device allocations, bytes */
  uint64_t dtype_mask;          /* [plugin] bit (1 << xhal_dtype_t) per supported dtype */
  uint32_t flags;               /* [plugin] XHAL_DEVICE_FLAG_* */
  int32_t compute_units;        /* [plugin] cores, SMs, ... */
} xhal_device_properties_t;

typedef enum xhal_copy_kind {
  XHAL_COPY_HOST_TO_DEVICE = 0,
  XHAL_COPY_DEVICE_TO_HOST = 1,
  XHAL_COPY_DEVICE_TO_DEVICE = 2
} xhal_copy_kind_t;

enum { XHAL_EVENT_FLAG_TIMING = 1u << 0 };

/* ---------------------------------------------------------------------------------------------
 * Kernels. A kernel is registered for (op id, op version range, dtype signature). The concrete
 * function type is the typed signature generated per op in <xhal/xhal_ops.h>
 * (xhal_<op>_v<N>_kernel_fn); it travels through this struct as xhal_kernel_fn_t.
 * ------------------------------------------------------------------------------------------- */
typedef void (*xhal_kernel_fn_t)(void);

enum {
  /* The kernel accepts strided (non-contiguous, offset) tensors; otherwise the host passes
   * compact row-major buffers with byte_offset 0. */
  XHAL_KERNEL_FLAG_STRIDED_INPUTS = 1u << 0
};

/* Handed to every kernel call [host fills]. */
typedef struct xhal_kernel_context {
  size_t struct_size;
  int32_t device;       /* plugin-local device index */
  xhal_stream_t stream; /* enqueue the work here; the host synchronises */
} xhal_kernel_context_t;

#define XHAL_MAX_TYPE_VARS 8

typedef struct xhal_kernel_def {
  size_t struct_size;            /* [plugin] sizeof(xhal_kernel_def_t) */
  uint32_t op_id;                /* XHAL_OP_* from <xhal/xhal_ops.h> */
  int32_t version_min;           /* op versions this kernel implements, inclusive */
  int32_t version_max;
  int32_t num_type_vars;         /* entries used in dtypes[], in the spec's type-variable order */
  int32_t dtypes[XHAL_MAX_TYPE_VARS]; /* xhal_dtype_t per type variable */
  uint32_t flags;                /* XHAL_KERNEL_FLAG_* */
  xhal_kernel_fn_t fn;           /* cast of the op's typed xhal_<op>_v<N>_kernel_fn */
  const char* name;              /* for diagnostics; may be NULL */
} xhal_kernel_def_t;

/* ---------------------------------------------------------------------------------------------
 * Host table, handed to the plugin's entry point [host fills]. A plugin checks
 * XHAL_FIELD_PRESENT(host, xhal_host_api_t, field) before using a field added after 1.0.
 * ------------------------------------------------------------------------------------------- */
typedef enum xhal_log_level {
  XHAL_LOG_DEBUG = 0,
  XHAL_LOG_INFO = 1,
  XHAL_LOG_WARNING = 2,
  XHAL_LOG_ERROR = 3
} xhal_log_level_t;

typedef struct xhal_host_api {
  size_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;
  /* Attach a message to the failure being returned on this thread. Returns `status`, so a
   * plugin writes `return host->set_error(XHAL_ERROR_INVALID_ARGUMENT, "...");`. */
  xhal_status_t (*set_error)(xhal_status_t status, const char* message);
  void (*log)(int32_t level, const char* message);
  /* Register one kernel; valid only during xhal_plugin_api_t.register_kernels. */
  xhal_status_t (*register_kernel)(xhal_registry_t registry, const xhal_kernel_def_t* def);
} xhal_host_api_t;

/* ---------------------------------------------------------------------------------------------
 * Plugin table, returned by the entry point [plugin fills, const, lives as long as the library].
 * ------------------------------------------------------------------------------------------- */
typedef struct xhal_plugin_api {
  size_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;
  const char* device_type;    /* namespaced: "<vendor>.<kind>", e.g. "xhal.cpu" */
  const char* plugin_version; /* the vendor's own version string */

  /* Lifecycle. initialize is called once before anything else; finalize once at unload. */
  xhal_status_t (*initialize)(void);
  void (*finalize)(void);

  /* Devices. Zero devices is a valid answer (e.g. no driver); set_error then says why. */
  xhal_status_t (*device_count)(int32_t* count);
  xhal_status_t (*device_get_properties)(int32_t device, xhal_device_properties_t* props);
  xhal_status_t (*device_synchronize)(int32_t device);
  xhal_status_t (*device_memory_usage)(int32_t device, uint64_t* free_bytes,
                                       uint64_t* total_bytes);

  /* Memory. A size of 0 returns a NULL pointer and XHAL_OK; freeing NULL is a no-op. */
  xhal_status_t (*mem_alloc)(int32_t device, uint64_t size, uint64_t alignment, void** ptr);
  xhal_status_t (*mem_free)(int32_t device, void* ptr); /* caller has synchronised users */
  xhal_status_t (*mem_set_async)(xhal_stream_t stream, void* dst, int32_t value, uint64_t size);
  /* Host buffers of a HOST_TO_DEVICE copy may be reused once the stream has passed the copy;
   * DEVICE_TO_HOST results are visible after stream or event synchronisation. */
  xhal_status_t (*memcpy_async)(xhal_stream_t stream, void* dst, const void* src, uint64_t size,
                                int32_t kind /* xhal_copy_kind_t */);

  /* Streams. */
  xhal_status_t (*stream_create)(int32_t device, xhal_stream_t* stream);
  xhal_status_t (*stream_destroy)(xhal_stream_t stream);
  xhal_status_t (*stream_synchronize)(xhal_stream_t stream);
  xhal_status_t (*stream_query)(xhal_stream_t stream); /* XHAL_OK or XHAL_ERROR_NOT_READY */
  xhal_status_t (*stream_wait_event)(xhal_stream_t stream, xhal_event_t event);
  xhal_status_t (*stream_get_native_handle)(xhal_stream_t stream, intptr_t* handle);

  /* Events. */
  xhal_status_t (*event_create)(int32_t device, uint32_t flags, xhal_event_t* event);
  xhal_status_t (*event_destroy)(xhal_event_t event);
  xhal_status_t (*event_record)(xhal_event_t event, xhal_stream_t stream);
  xhal_status_t (*event_query)(xhal_event_t event); /* XHAL_OK or XHAL_ERROR_NOT_READY */
  xhal_status_t (*event_synchronize)(xhal_event_t event);
  xhal_status_t (*event_elapsed_ms)(xhal_event_t start, xhal_event_t end, float* ms);

  /* Kernels: call host->register_kernel(registry, &def) once per kernel. */
  xhal_status_t (*register_kernels)(xhal_registry_t registry);
} xhal_plugin_api_t;

/* The one symbol a plugin exports. The plugin keeps `host` for its lifetime; it returns NULL
 * only when it cannot serve any table for host->abi_major (after host->set_error). */
#define XHAL_PLUGIN_ENTRY_SYMBOL "xhal_get_plugin_api"
typedef const xhal_plugin_api_t* (*xhal_get_plugin_api_fn)(const xhal_host_api_t* host);

/* Helpers shared by host and plugins. */
static inline int32_t xhal_dtype_size(int32_t dtype) {
  switch (dtype) {
    case XHAL_DTYPE_BOOL:
    case XHAL_DTYPE_UINT8:
    case XHAL_DTYPE_INT8: return 1;
    case XHAL_DTYPE_UINT16:
    case XHAL_DTYPE_INT16:
    case XHAL_DTYPE_FLOAT16:
    case XHAL_DTYPE_BFLOAT16: return 2;
    case XHAL_DTYPE_INT32:
    case XHAL_DTYPE_UINT32:
    case XHAL_DTYPE_FLOAT32: return 4;
    case XHAL_DTYPE_INT64:
    case XHAL_DTYPE_UINT64:
    case XHAL_DTYPE_FLOAT64: return 8;
    default: return 0;
  }
}

static inline xhal_dl_dtype_t xhal_dtype_to_dl(int32_t dtype) {
  xhal_dl_dtype_t d;
  d.lanes = 1;
  d.bits = (uint8_t)(8 * xhal_dtype_size(dtype));
  switch (dtype) {
    case XHAL_DTYPE_FLOAT32:
    case XHAL_DTYPE_FLOAT16:
    case XHAL_DTYPE_FLOAT64: d.code = XHAL_DL_FLOAT; break;
    case XHAL_DTYPE_BFLOAT16: d.code = XHAL_DL_BFLOAT; break;
    case XHAL_DTYPE_BOOL: d.code = XHAL_DL_BOOL; break;
    case XHAL_DTYPE_UINT8:
    case XHAL_DTYPE_UINT16:
    case XHAL_DTYPE_UINT32:
    case XHAL_DTYPE_UINT64: d.code = XHAL_DL_UINT; break;
    default: d.code = XHAL_DL_INT; break;
  }
  return d;
}

/* XHAL_DTYPE_UNDEFINED when the DLPack type has no xhal dtype. */
static inline int32_t xhal_dtype_from_dl(xhal_dl_dtype_t d) {
  if (d.lanes != 1) return XHAL_DTYPE_UNDEFINED;
  switch (d.code) {
    case XHAL_DL_FLOAT:
      return d.bits == 32 ? XHAL_DTYPE_FLOAT32
           : d.bits == 16 ? XHAL_DTYPE_FLOAT16
           : d.bits == 64 ? XHAL_DTYPE_FLOAT64 : XHAL_DTYPE_UNDEFINED;
    case XHAL_DL_BFLOAT: return d.bits == 16 ? XHAL_DTYPE_BFLOAT16 : XHAL_DTYPE_UNDEFINED;
    case XHAL_DL_BOOL: return d.bits == 8 ? XHAL_DTYPE_BOOL : XHAL_DTYPE_UNDEFINED;
    case XHAL_DL_INT:
      return d.bits == 8 ? XHAL_DTYPE_INT8
           : d.bits == 16 ? XHAL_DTYPE_INT16
           : d.bits == 32 ? XHAL_DTYPE_INT32
           : d.bits == 64 ? XHAL_DTYPE_INT64 : XHAL_DTYPE_UNDEFINED;
    case XHAL_DL_UINT:
      return d.bits == 8 ? XHAL_DTYPE_UINT8
           : d.bits == 16 ? XHAL_DTYPE_UINT16
           : d.bits == 32 ? XHAL_DTYPE_UINT32
           : d.bits == 64 ? XHAL_DTYPE_UINT64 : XHAL_DTYPE_UNDEFINED;
    default: return XHAL_DTYPE_UNDEFINED;
  }
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* XHAL_ABI_H_ */
