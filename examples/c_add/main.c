/*
 * c_add — the smallest complete use of libxhal from C99.
 *
 * Creates a runtime, loads the CPU plugin, finds the first "xhal.cpu" device, copies two
 * float32 arrays to it, runs XHAL_OP_ADD (version 1) through xhal_launch, synchronises, copies
 * the sum back and checks it.
 *
 *   c_add /path/to/libxhal_cpu.so     load this plugin
 *   c_add                             load every plugin on XHAL_PLUGIN_PATH
 *
 * Every call is checked; on failure the program prints xhal_last_error() and exits with 1.
 */
#include <stdio.h>
#include <stdlib.h>

#include <xhal/xhal_runtime.h>

#define ROWS 2
#define COLS 3
#define COUNT (ROWS * COLS)

/* Print the failing call and libxhal's message for this thread, then leave. */
#define CHECK(call)                                                                      \
  do {                                                                                   \
    xhal_status_t status_ = (call);                                                      \
    if (status_ != XHAL_OK) {                                                            \
      fprintf(stderr, "c_add: %s failed (status %d): %s\n", #call, (int)status_,       \
              xhal_last_error());                                                        \
      exit(1);                                                                           \
    }                                                                                    \
  } while (0)

/* A compact row-major tensor descriptor (DLPack layout) over a device buffer. */
static xhal_tensor_t make_tensor(void* data, const xhal_device_properties_t* props,
                                 int32_t device_id, int32_t ndim, int64_t* shape) {
  xhal_tensor_t t;
  t.data = data;
  t.device.device_type = props->dlpack_device_type;
  t.device.device_id = device_id;
  t.ndim = ndim;
  t.dtype = xhal_dtype_to_dl(XHAL_DTYPE_FLOAT32);
  t.shape = shape;
  t.strides = NULL; /* contiguous row-major */
  t.byte_offset = 0;
  return t;
}

int main(int argc, char** argv) {
  const float a[COUNT] = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
  const float b[COUNT] = {10.0f, 20.0f, 30.0f, 40.0f, 50.0f, 60.0f};
  float c[COUNT] = {0};
  const uint64_t bytes = sizeof(a);
  int64_t shape[2] = {ROWS, COLS};

  xhal_runtime_t rt = NULL;
  int32_t device = -1;
  /* The first device of the type. A tensor's DLPack device_id is the plugin's own index for the
   * device, which for the index-th device of one type is that index. */
  const int32_t index = 0;
  xhal_device_properties_t props;
  void* d_a = NULL;
  void* d_b = NULL;
  void* d_c = NULL;
  xhal_tensor_t ta, tb, tc;
  const xhal_tensor_t* inputs[2];
  xhal_tensor_t* outputs[1];
  xhal_add_v1_attrs_t attrs;
  int i, ok = 1;

  CHECK(xhal_runtime_create(&rt));
  if (argc > 1) {
    CHECK(xhal_runtime_load_plugin(rt, argv[1]));
  } else if (getenv("XHAL_PLUGIN_PATH") != NULL) {
    CHECK(xhal_runtime_load_plugins_from_env(rt));
  } else {
    fprintf(stderr, "usage: %s PATH/TO/libxhal_cpu.so  (or set XHAL_PLUGIN_PATH)\n", argv[0]);
    xhal_runtime_destroy(rt);
    return 2;
  }

  CHECK(xhal_runtime_find_device(rt, "xhal.cpu", index, &device));
  props.struct_size = sizeof(props);
  CHECK(xhal_device_properties(rt, device, &props));
  printf("device %d: %s (%s)\n", (int)device, props.name, props.vendor);

  CHECK(xhal_device_alloc(rt, device, bytes, &d_a));
  CHECK(xhal_device_alloc(rt, device, bytes, &d_b));
  CHECK(xhal_device_alloc(rt, device, bytes, &d_c));
  CHECK(xhal_copy_to_device(rt, device, d_a, a, bytes));
  CHECK(xhal_copy_to_device(rt, device, d_b, b, bytes));

  /* Outputs are allocated by the caller with the shape the spec's rule gives:
   * add: C = broadcast(A, B), here [2, 3]. */
  ta = make_tensor(d_a, &props, index, 2, shape);
  tb = make_tensor(d_b, &props, index, 2, shape);
  tc = make_tensor(d_c, &props, index, 2, shape);
  inputs[0] = &ta;
  inputs[1] = &tb;
  outputs[0] = &tc;
  xhal_add_v1_attrs_init(&attrs); /* add has no attributes; NULL would do as well */

  CHECK(xhal_launch(rt, device, XHAL_OP_ADD, 1, inputs, 2, &attrs, outputs, 1));
  CHECK(xhal_device_synchronize(rt, device));
  CHECK(xhal_copy_to_host(rt, device, c, d_c, bytes));

  printf("result:");
  for (i = 0; i < COUNT; ++i) {
    printf(" %g", (double)c[i]);
    if (c[i] != a[i] + b[i]) ok = 0; /* exact for these small integers */
  }
  printf("\n");

  CHECK(xhal_device_free(rt, device, d_a));
  CHECK(xhal_device_free(rt, device, d_b));
  CHECK(xhal_device_free(rt, device, d_c));
  xhal_runtime_destroy(rt);

  if (!ok) {
    fprintf(stderr, "c_add: wrong result\n");
    return 1;
  }
  printf("c_add: OK\n");
  return 0;
}
