/* npu_sim: a vendor's own check of the device runtime, below xhal's Python layer. It loads
 * libnpu_sim.so the way the host does (dlopen + xhal_get_plugin_api with a host table of its
 * own) and drives the plugin table directly: handles and pointer arithmetic, invalid handles,
 * overlapping device-to-device copies, asynchronous streams (NOT_READY while pending), events
 * (cross-stream waits, elapsed time), errors of queued work reported at the next synchronize,
 * and out-of-memory. Usage: runtime_check ./libnpu_sim.so  (exit status 0 = every check held).
 * Build: cc -std=c99 -I<xhal include> runtime_check.c -ldl -o runtime_check */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xhal/xhal_abi.h>
#include <xhal/xhal_ops.h>

static char g_last_error[512];
static int g_failures;

static xhal_status_t set_error(xhal_status_t status, const char* message) {
  snprintf(g_last_error, sizeof g_last_error, "%s", message ? message : "");
  return status;
}
static void log_message(int32_t level, const char* message) { (void)level; (void)message; }
static xhal_relu_v1_kernel_fn g_relu_f16;
static xhal_status_t register_kernel(xhal_registry_t r, const xhal_kernel_def_t* d) {
  (void)r;
  if (d->op_id == XHAL_OP_RELU && d->dtypes[0] == XHAL_DTYPE_FLOAT16)
    g_relu_f16 = (xhal_relu_v1_kernel_fn)d->fn;
  return XHAL_OK;
}

#define CHECK(cond, what)                                                               \
  do {                                                                                  \
    if (cond) {                                                                         \
      printf("ok   %s\n", what);                                                        \
    } else {                                                                            \
      printf("FAIL %s (last error: %s)\n", what, g_last_error);                         \
      ++g_failures;                                                                     \
    }                                                                                   \
  } while (0)

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s libnpu_sim.so\n", argv[0]);
    return 2;
  }
  setenv("NPU_SIM_DELAY_US", "20000", 1); /* 20 ms per queued item: pending work is visible */
  setenv("NPU_SIM_MEMORY_BYTES", "16777216", 1);
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 2;
  }
  xhal_get_plugin_api_fn entry;
  *(void**)(&entry) = dlsym(lib, XHAL_PLUGIN_ENTRY_SYMBOL);
  static xhal_host_api_t host;
  host.struct_size = sizeof host;
  host.abi_major = XHAL_ABI_MAJOR;
  host.abi_minor = XHAL_ABI_MINOR;
  host.set_error = set_error;
  host.log = log_message;
  host.register_kernel = register_kernel;
  const xhal_plugin_api_t* api = entry ? entry(&host) : NULL;
  if (!api || api->initialize() != XHAL_OK) {
    fprintf(stderr, "cannot initialise the plugin: %s\n", g_last_error);
    return 2;
  }

  xhal_stream_t s1, s2;
  CHECK(api->stream_create(0, &s1) == XHAL_OK && api->stream_create(0, &s2) == XHAL_OK,
        "two streams");
  unsigned char* buf = NULL;
  CHECK(api->mem_alloc(0, 4096, 0, (void**)&buf) == XHAL_OK && buf != NULL, "mem_alloc");
  CHECK(((uintptr_t)buf % 256) == 0, "allocations are 256-byte aligned");

  /* pointer arithmetic on handles, round trip through the copy API */
  unsigned char in[64], out[64];
  for (int i = 0; i < 64; ++i) in[i] = (unsigned char)(i * 3 + 1);
  memset(out, 0, sizeof out);
  CHECK(api->memcpy_async(s1, buf + 100, in, 64, XHAL_COPY_HOST_TO_DEVICE) == XHAL_OK,
        "host-to-device at handle + 100");
  CHECK(api->stream_query(s1) == XHAL_ERROR_NOT_READY, "stream_query: NOT_READY while pending");
  CHECK(api->memcpy_async(s1, out, buf + 100, 64, XHAL_COPY_DEVICE_TO_HOST) == XHAL_OK,
        "device-to-host from handle + 100");
  CHECK(api->stream_synchronize(s1) == XHAL_OK && memcmp(in, out, 64) == 0,
        "round trip after stream_synchronize");
  CHECK(api->stream_query(s1) == XHAL_OK, "stream_query: OK when drained");

  /* invalid handles and ranges */
  int local = 0;
  CHECK(api->mem_free(0, &local) == XHAL_ERROR_INVALID_ARGUMENT, "mem_free of a host pointer");
  CHECK(api->mem_free(0, buf + 16) == XHAL_ERROR_INVALID_ARGUMENT, "mem_free of an interior pointer");
  CHECK(api->memcpy_async(s1, buf + 4090, in, 64, XHAL_COPY_HOST_TO_DEVICE) ==
            XHAL_ERROR_INVALID_ARGUMENT, "copy past the end of an allocation");
  CHECK(api->memcpy_async(s1, &local, in, 4, XHAL_COPY_HOST_TO_DEVICE) ==
            XHAL_ERROR_INVALID_ARGUMENT, "host pointer given as a device address");
  CHECK(api->memcpy_async((xhal_stream_t)&local, buf, in, 4, XHAL_COPY_HOST_TO_DEVICE) ==
            XHAL_ERROR_INVALID_ARGUMENT, "unknown stream handle");
  CHECK(api->memcpy_async(s1, buf + 8, buf, 64, XHAL_COPY_DEVICE_TO_DEVICE) ==
            XHAL_ERROR_INVALID_ARGUMENT && strstr(g_last_error, "overlap") != NULL,
        "overlapping device-to-device copy rejected");
  CHECK(api->memcpy_async(s1, buf + 1024, buf, 64, XHAL_COPY_DEVICE_TO_DEVICE) == XHAL_OK,
        "disjoint device-to-device copy");

  /* events: record, cross-stream wait, query, elapsed time */
  xhal_event_t e0, e1;
  CHECK(api->event_create(0, XHAL_EVENT_FLAG_TIMING, &e0) == XHAL_OK &&
            api->event_create(0, XHAL_EVENT_FLAG_TIMING, &e1) == XHAL_OK, "event_create");
  CHECK(api->event_record(e0, s1) == XHAL_OK, "event_record");
  CHECK(api->mem_set_async(s1, buf + 2048, 0x5A, 64) == XHAL_OK, "mem_set_async");
  CHECK(api->event_record(e1, s1) == XHAL_OK, "event_record after the memset");
  CHECK(api->event_query(e1) == XHAL_ERROR_NOT_READY, "event_query: NOT_READY while pending");
  CHECK(api->stream_wait_event(s2, e1) == XHAL_OK, "stream_wait_event");
  memset(out, 0, sizeof out);
  CHECK(api->memcpy_async(s2, out, buf + 2048, 64, XHAL_COPY_DEVICE_TO_HOST) == XHAL_OK,
        "copy on the waiting stream");
  CHECK(api->stream_synchronize(s2) == XHAL_OK && out[0] == 0x5A && out[63] == 0x5A,
        "the second stream saw the first stream's memset");
  CHECK(api->event_query(e1) == XHAL_OK, "event_query: OK after the wait");
  float ms = -1.0f;
  CHECK(api->event_synchronize(e1) == XHAL_OK &&
            api->event_elapsed_ms(e0, e1, &ms) == XHAL_OK && ms > 5.0f, "event_elapsed_ms");
  printf("     elapsed %.2f ms\n", (double)ms);

  /* errors of queued work surface at the next synchronize of that stream */
  unsigned char* doomed = NULL;
  CHECK(api->mem_alloc(0, 4096, 0, (void**)&doomed) == XHAL_OK, "mem_alloc a second buffer");
  CHECK(api->memcpy_async(s1, doomed, in, 64, XHAL_COPY_HOST_TO_DEVICE) == XHAL_OK,
        "queue a copy into it");
  CHECK(api->mem_free(0, doomed) == XHAL_OK, "free it without synchronising (a host bug)");
  CHECK(api->stream_synchronize(s1) == XHAL_ERROR_INVALID_ARGUMENT &&
            strstr(g_last_error, "freed before") != NULL,
        "stream_synchronize reports the queued copy's error");
  CHECK(api->stream_synchronize(s1) == XHAL_OK, "the error is reported once");

  /* a kernel copies its descriptors at enqueue time, and checks its buffers when it runs */
  CHECK(api->register_kernels(NULL) == XHAL_OK && g_relu_f16 != NULL, "relu float16 registered");
  if (g_relu_f16 != NULL) {
    unsigned char *x = NULL, *y = NULL;
    const uint16_t halves[4] = {0xBC00u, 0x3C00u, 0xC000u, 0x4000u}; /* -1 1 -2 2 */
    uint16_t result[4] = {0, 0, 0, 0};
    CHECK(api->mem_alloc(0, 8, 0, (void**)&x) == XHAL_OK &&
              api->mem_alloc(0, 8, 0, (void**)&y) == XHAL_OK, "mem_alloc for relu");
    api->memcpy_async(s1, x, halves, 8, XHAL_COPY_HOST_TO_DEVICE);
    int64_t shape[1] = {4};
    xhal_tensor_t X, Y;
    memset(&X, 0, sizeof X);
    X.data = x;
    X.device.device_type = XHAL_DL_EXT_DEV;
    X.ndim = 1;
    X.dtype = xhal_dtype_to_dl(XHAL_DTYPE_FLOAT16);
    X.shape = shape;
    Y = X;
    Y.data = y;
    xhal_relu_v1_attrs_t attrs;
    xhal_relu_v1_attrs_init(&attrs);
    xhal_kernel_context_t ctx;
    ctx.struct_size = sizeof ctx;
    ctx.device = 0;
    ctx.stream = s1;
    CHECK(g_relu_f16(&ctx, &X, &attrs, &Y) == XHAL_OK, "relu enqueued");
    shape[0] = 0; /* the caller's descriptor dies with the call */
    memset(&X, 0, sizeof X);
    api->memcpy_async(s1, result, y, 8, XHAL_COPY_DEVICE_TO_HOST);
    CHECK(api->stream_synchronize(s1) == XHAL_OK && result[0] == 0 && result[1] == 0x3C00u &&
              result[2] == 0 && result[3] == 0x4000u, "relu result after synchronize");
    X.data = x;
    X.ndim = 1;
    X.dtype = xhal_dtype_to_dl(XHAL_DTYPE_FLOAT16);
    X.shape = shape;
    shape[0] = 4;
    CHECK(g_relu_f16(&ctx, &X, &attrs, &Y) == XHAL_OK && api->mem_free(0, x) == XHAL_OK,
          "relu enqueued, its input freed without synchronising");
    CHECK(api->stream_synchronize(s1) == XHAL_ERROR_INVALID_ARGUMENT &&
              strstr(g_last_error, "freed before the queued kernel") != NULL,
          "stream_synchronize reports the kernel's freed input");
    api->mem_free(0, y);
  }

  /* out of memory, with a message, and the device still works */
  void* huge = NULL;
  CHECK(api->mem_alloc(0, 64u << 20, 0, &huge) == XHAL_ERROR_OUT_OF_MEMORY && huge == NULL &&
            strstr(g_last_error, "NPU_SIM_MEMORY_BYTES") != NULL, "out of memory");
  uint64_t free_bytes = 0, total = 0;
  CHECK(api->device_memory_usage(0, &free_bytes, &total) == XHAL_OK && total == (16u << 20) &&
            free_bytes == total - 4096, "device_memory_usage");
  CHECK(api->mem_free(0, buf) == XHAL_OK && api->mem_free(0, NULL) == XHAL_OK, "mem_free");
  CHECK(api->device_synchronize(0) == XHAL_OK, "device_synchronize");
  CHECK(api->event_destroy(e0) == XHAL_OK && api->event_destroy(e1) == XHAL_OK &&
            api->stream_destroy(s1) == XHAL_OK && api->stream_destroy(s2) == XHAL_OK,
        "destroy events and streams");
  api->finalize();
  printf("%d failed\n", g_failures);
  return g_failures == 0 ? 0 : 1;
}
