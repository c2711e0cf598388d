// Device, memory, stream and event entry points, mapped onto the CUDA runtime.
//
// - Streams and events are CUDA streams (non-blocking) and CUDA events; the native stream handle
//   is exposed, so a framework can run on the same stream and exchange DLPack tensors unsynced.
// - Memory is stream-ordered and cached: each device's default memory pool keeps freed memory
//   (release threshold: unlimited). mem_alloc has no stream argument, so it allocates on a
//   per-device allocation stream and waits for that (empty) stream, which makes the block usable
//   from every stream at once; mem_free returns it to the pool on the same stream.
// - Copies to and from pageable host memory go through pinned staging (staging.h).
#include "runtime.h"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cublas_loader.h"
#include "host.h"
#include "staging.h"

struct xhal_stream_impl {
  uint32_t magic;
  int32_t device;
  cudaStream_t stream;
};

struct xhal_event_impl {
  uint32_t magic;
  int32_t device;
  uint32_t flags;
  cudaEvent_t event;
};

namespace xhal_cuda {
namespace {

constexpr uint32_t kStreamMagic = 0x43535452u;  // "CSTR"
constexpr uint32_t kEventMagic = 0x43455654u;   // "CEVT"
constexpr uint32_t kDeadMagic = 0xdeadbeefu;
constexpr uint64_t kAlignment = 256;  // what cudaMalloc guarantees; enough for any vector load

struct Allocation {
  void* base;  // what the pool handed out (differs from the user pointer when over-aligned)
  uint64_t size;
};

struct DeviceState {
  std::once_flag init_once;
  xhal_status_t init_status = XHAL_OK;
  std::string init_error;
  cudaStream_t alloc_stream = nullptr;
  std::mutex mutex;
  std::unordered_map<void*, Allocation> allocations;  // user pointer -> allocation
};

std::mutex g_devices_mutex;
std::vector<DeviceState*> g_devices;  // index = CUDA device ordinal; never shrinks
std::atomic<int> g_device_count{-1};

xhal_status_t count_devices(int32_t* count) {
  if (g_device_count.load() >= 0) {
    *count = g_device_count.load();
    return XHAL_OK;
  }
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();
    *count = 0;
    return fail(XHAL_ERROR_DEVICE, "no usable CUDA device: %s (%s)", cudaGetErrorString(err),
                cudaGetErrorName(err));
  }
  std::string why;
  if (n > 0 && cublas_api(&why) == nullptr) {
    *count = 0;
    return fail(XHAL_ERROR_DEVICE, "%d CUDA device(s) found but %s", n, why.c_str());
  }
  {
    std::lock_guard<std::mutex> lock(g_devices_mutex);
    while (static_cast<int>(g_devices.size()) < n) g_devices.push_back(new DeviceState);
  }
  g_device_count.store(n);
  *count = n;
  return XHAL_OK;
}

xhal_status_t check_device(const char* fn, int32_t device) {
  int32_t n = 0;
  XHAL_CUDA_TRY(count_devices(&n));
  if (device < 0 || device >= n)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: device %d does not exist (xhal.cuda has %d)",
                fn, static_cast<int>(device), static_cast<int>(n));
  return XHAL_OK;
}

// Makes `device` current on this thread and sets up its pool and allocation stream once.
xhal_status_t use_device(const char* fn, int32_t device, DeviceState** state = nullptr) {
  XHAL_CUDA_TRY(check_device(fn, device));
  DeviceState* d;
  {
    std::lock_guard<std::mutex> lock(g_devices_mutex);
    d = g_devices[device];
  }
  int current = -1;
  if (cudaGetDevice(&current) != cudaSuccess || current != device)
    XHAL_CUDA_CHECK(fn, cudaSetDevice(device));
  std::call_once(d->init_once, [d, device] {
    cudaMemPool_t pool;
    cudaError_t err = cudaDeviceGetDefaultMemPool(&pool, device);
    if (err == cudaSuccess) {
      uint64_t threshold = UINT64_MAX;  // keep freed memory cached in the pool
      err = cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold);
    }
    if (err == cudaSuccess) err = cudaStreamCreateWithFlags(&d->alloc_stream, cudaStreamNonBlocking);
    if (err != cudaSuccess) {
      cudaGetLastError();
      d->init_status = err == cudaErrorMemoryAllocation ? XHAL_ERROR_OUT_OF_MEMORY
                                                         : XHAL_ERROR_DEVICE;
      d->init_error = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    }
  });
  if (d->init_status != XHAL_OK)
    return fail(d->init_status, "%s: setting up CUDA device %d failed: %s", fn,
                static_cast<int>(device), d->init_error.c_str());
  if (state != nullptr) *state = d;
  return XHAL_OK;
}

// Handles alive now. A destroyed or foreign handle is recognised by membership, never by
// reading its memory (which may already be freed).
class LiveHandles {
 public:
  void add(const void* h) {
    std::lock_guard<std::mutex> lock(mutex_);
    set_.insert(h);
  }
  bool remove(const void* h) {  // false when `h` was not live
    std::lock_guard<std::mutex> lock(mutex_);
    return set_.erase(h) != 0;
  }
  bool contains(const void* h) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return set_.count(h) != 0;
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_set<const void*> set_;
};

LiveHandles g_live_streams;
LiveHandles g_live_events;

xhal_status_t check_stream(const char* fn, xhal_stream_t stream) {
  if (stream == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: stream is NULL", fn);
  if (!g_live_streams.contains(stream))
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: not a live xhal.cuda stream handle (destroyed, or not created here)", fn);
  return use_device(fn, stream->device);
}

xhal_status_t check_event(const char* fn, const char* role, xhal_event_t event) {
  if (event == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", fn, role);
  if (!g_live_events.contains(event))
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: %s is not a live xhal.cuda event handle (destroyed, or not created here)",
                fn, role);
  return XHAL_OK;
}

#define XHAL_CUDA_REQUIRE_OUT(fn, ptr)                                                       \
  do {                                                                                       \
    if ((ptr) == nullptr)                                                                    \
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output pointer '%s' is NULL", fn, #ptr); \
  } while (0)

bool overlaps(const void* a, const void* b, uint64_t size) {
  const auto x = reinterpret_cast<uintptr_t>(a), y = reinterpret_cast<uintptr_t>(b);
  return x < y + size && y < x + size;
}

}  // namespace

uint64_t supported_dtype_mask() {
  const int32_t dtypes[] = {XHAL_DTYPE_FLOAT32, XHAL_DTYPE_FLOAT64, XHAL_DTYPE_FLOAT16,
                            XHAL_DTYPE_BFLOAT16, XHAL_DTYPE_INT32,  XHAL_DTYPE_INT64,
                            XHAL_DTYPE_INT8,     XHAL_DTYPE_UINT8,  XHAL_DTYPE_BOOL};
  uint64_t mask = 0;
  for (int32_t d : dtypes) mask |= uint64_t{1} << d;
  return mask;
}

cudaStream_t native_stream(const char* what, xhal_stream_t stream) {
  if (check_stream(what, stream) != XHAL_OK) return nullptr;
  return stream->stream;
}

xhal_status_t initialize() noexcept { return XHAL_OK; }  // devices are set up on first use

void finalize() noexcept {
  guarded("finalize", [] {
    // The host has synchronised and freed everything by now; cached pinned blocks go back.
    release_staging_pool();
    return XHAL_OK;
  });
}

xhal_status_t device_count(int32_t* count) noexcept {
  XHAL_CUDA_REQUIRE_OUT("device_count", count);
  return guarded("device_count", [&] { return count_devices(count); });
}

xhal_status_t device_get_properties(int32_t device, xhal_device_properties_t* props) noexcept {
  return guarded("device_get_properties", [&] {
    XHAL_CUDA_TRY(check_device("device_get_properties", device));
    XHAL_CUDA_REQUIRE_OUT("device_get_properties", props);
    if (props->struct_size < sizeof(size_t))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "device_get_properties: props->struct_size (%zu) is too small",
                  props->struct_size);
    cudaDeviceProp dp;
    XHAL_CUDA_CHECK("cudaGetDeviceProperties", cudaGetDeviceProperties(&dp, device));
    xhal_device_properties_t p;
    std::memset(&p, 0, sizeof p);
    const std::string name = std::string(dp.name) + " (sm_" + std::to_string(dp.major) +
                             std::to_string(dp.minor) + ")";
    std::snprintf(p.name, sizeof p.name, "%.63s", name.c_str());
    std::snprintf(p.vendor, sizeof p.vendor, "NVIDIA");
    p.kind = XHAL_DEVICE_KIND_GPU;
    p.dlpack_device_type = XHAL_DL_CUDA;
    p.total_memory = dp.totalGlobalMem;
    p.alignment = kAlignment;
    p.dtype_mask = supported_dtype_mask();
    p.flags = XHAL_DEVICE_FLAG_ASYNC_STREAMS;
    p.compute_units = dp.multiProcessorCount;
    const size_t n = props->struct_size < sizeof p ? props->struct_size : sizeof p;
    std::memcpy(reinterpret_cast<char*>(props) + sizeof(size_t),
                reinterpret_cast<const char*>(&p) + sizeof(size_t), n - sizeof(size_t));
    return XHAL_OK;
  });
}

xhal_status_t device_synchronize(int32_t device) noexcept {
  return guarded("device_synchronize", [&] {
    XHAL_CUDA_TRY(use_device("device_synchronize", device));
    XHAL_CUDA_CHECK("device_synchronize", cudaDeviceSynchronize());
    return XHAL_OK;
  });
}

xhal_status_t device_memory_usage(int32_t device, uint64_t* free_bytes,
                                  uint64_t* total_bytes) noexcept {
  return guarded("device_memory_usage", [&] {
    XHAL_CUDA_TRY(use_device("device_memory_usage", device));
    size_t f = 0, t = 0;
    XHAL_CUDA_CHECK("cudaMemGetInfo", cudaMemGetInfo(&f, &t));
    if (free_bytes) *free_bytes = f;
    if (total_bytes) *total_bytes = t;
    return XHAL_OK;
  });
}

xhal_status_t mem_alloc(int32_t device, uint64_t size, uint64_t alignment, void** ptr) noexcept {
  return guarded("mem_alloc", [&] {
    XHAL_CUDA_REQUIRE_OUT("mem_alloc", ptr);
    *ptr = nullptr;
    DeviceState* d = nullptr;
    XHAL_CUDA_TRY(use_device("mem_alloc", device, &d));
    if (alignment != 0 && (alignment & (alignment - 1)) != 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "mem_alloc: alignment %llu is not a power of two",
                  static_cast<unsigned long long>(alignment));
    if (size == 0) return XHAL_OK;
    const uint64_t extra = alignment > kAlignment ? alignment - kAlignment : 0;
    if (size > UINT64_MAX - extra)
      return fail(XHAL_ERROR_OUT_OF_MEMORY, "mem_alloc: %llu bytes cannot be allocated",
                  static_cast<unsigned long long>(size));
    void* base = nullptr;
    const cudaError_t err = cudaMallocAsync(&base, size + extra, d->alloc_stream);
    if (err != cudaSuccess) {
      cudaGetLastError();
      size_t f = 0, t = 0;
      cudaMemGetInfo(&f, &t);
      cudaGetLastError();
      return fail(err == cudaErrorMemoryAllocation ? XHAL_ERROR_OUT_OF_MEMORY : XHAL_ERROR_DEVICE,
                  "mem_alloc: %llu bytes on cuda:%d: %s (%s; %zu of %zu bytes free)",
                  static_cast<unsigned long long>(size), static_cast<int>(device),
                  cudaGetErrorString(err), cudaGetErrorName(err), f, t);
    }
    XHAL_CUDA_CHECK("mem_alloc (allocation stream)", cudaStreamSynchronize(d->alloc_stream));
    const uintptr_t a = alignment > kAlignment ? alignment : kAlignment;
    void* user = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(base) + a - 1) & ~(a - 1));
    std::lock_guard<std::mutex> lock(d->mutex);
    d->allocations[user] = Allocation{base, size};
    *ptr = user;
    return XHAL_OK;
  });
}

xhal_status_t mem_free(int32_t device, void* ptr) noexcept {
  return guarded("mem_free", [&] {
    if (ptr == nullptr) return XHAL_OK;
    DeviceState* d = nullptr;
    XHAL_CUDA_TRY(use_device("mem_free", device, &d));
    Allocation a;
    {
      std::lock_guard<std::mutex> lock(d->mutex);
      auto it = d->allocations.find(ptr);
      if (it == d->allocations.end())
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "mem_free: %p was not allocated by xhal.cuda on device %d (or already freed)",
                    ptr, static_cast<int>(device));
      a = it->second;
      d->allocations.erase(it);
    }
    XHAL_CUDA_CHECK("mem_free", cudaFreeAsync(a.base, d->alloc_stream));
    return XHAL_OK;
  });
}

xhal_status_t mem_set_async(xhal_stream_t stream, void* dst, int32_t value, uint64_t size) noexcept {
  return guarded("mem_set_async", [&] {
    XHAL_CUDA_TRY(check_stream("mem_set_async", stream));
    if (size == 0) return XHAL_OK;
    if (dst == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "mem_set_async: dst is NULL");
    XHAL_CUDA_CHECK("mem_set_async", cudaMemsetAsync(dst, value, size, stream->stream));
    return XHAL_OK;
  });
}

xhal_status_t memcpy_async(xhal_stream_t stream, void* dst, const void* src, uint64_t size,
                           int32_t kind) noexcept {
  return guarded("memcpy_async", [&] {
    XHAL_CUDA_TRY(check_stream("memcpy_async", stream));
    if (size == 0) return XHAL_OK;
    if (dst == nullptr || src == nullptr)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "memcpy_async: %s is NULL",
                  dst == nullptr ? "dst" : "src");
    cudaStream_t s = stream->stream;
    switch (kind) {
      case XHAL_COPY_HOST_TO_DEVICE:
        if (size <= kMaxStagedCopy && !is_pinned_host(src))
          return staged_host_to_device(s, dst, src, size);
        XHAL_CUDA_CHECK("memcpy_async (host to device)",
                        cudaMemcpyAsync(dst, src, size, cudaMemcpyHostToDevice, s));
        return XHAL_OK;
      case XHAL_COPY_DEVICE_TO_HOST:
        if (size <= kMaxStagedCopy && !is_pinned_host(dst))
          return staged_device_to_host(s, dst, src, size);
        XHAL_CUDA_CHECK("memcpy_async (device to host)",
                        cudaMemcpyAsync(dst, src, size, cudaMemcpyDeviceToHost, s));
        return XHAL_OK;
      case XHAL_COPY_DEVICE_TO_DEVICE:
        if (overlaps(dst, src, size))
          return fail(XHAL_ERROR_INVALID_ARGUMENT,
                      "memcpy_async: device ranges [%p, +%llu) and [%p, +%llu) overlap", dst,
                      static_cast<unsigned long long>(size), src,
                      static_cast<unsigned long long>(size));
        XHAL_CUDA_CHECK("memcpy_async (device to device)",
                        cudaMemcpyAsync(dst, src, size, cudaMemcpyDeviceToDevice, s));
        return XHAL_OK;
      default:
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "memcpy_async: unknown copy kind %d",
                    static_cast<int>(kind));
    }
  });
}

xhal_status_t stream_create(int32_t device, xhal_stream_t* stream) noexcept {
  return guarded("stream_create", [&] {
    XHAL_CUDA_REQUIRE_OUT("stream_create", stream);
    *stream = nullptr;
    XHAL_CUDA_TRY(use_device("stream_create", device));
    cudaStream_t s = nullptr;
    XHAL_CUDA_CHECK("stream_create", cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    *stream = new xhal_stream_impl{kStreamMagic, device, s};
    g_live_streams.add(*stream);
    return XHAL_OK;
  });
}

xhal_status_t stream_destroy(xhal_stream_t stream) noexcept {
  return guarded("stream_destroy", [&] {
    XHAL_CUDA_TRY(check_stream("stream_destroy", stream));
    if (!g_live_streams.remove(stream))  // destroyed by another thread meanwhile
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "stream_destroy: stream already destroyed");
    const cudaError_t err = cudaStreamDestroy(stream->stream);  // pending work still completes
    stream->magic = kDeadMagic;
    delete stream;
    return check_cuda("stream_destroy", err);
  });
}

xhal_status_t stream_synchronize(xhal_stream_t stream) noexcept {
  return guarded("stream_synchronize", [&] {
    XHAL_CUDA_TRY(check_stream("stream_synchronize", stream));
    XHAL_CUDA_CHECK("stream_synchronize", cudaStreamSynchronize(stream->stream));
    return XHAL_OK;
  });
}

xhal_status_t stream_query(xhal_stream_t stream) noexcept {
  return guarded("stream_query", [&] {
    XHAL_CUDA_TRY(check_stream("stream_query", stream));
    const cudaError_t err = cudaStreamQuery(stream->stream);
    if (err == cudaErrorNotReady) {
      cudaGetLastError();
      return XHAL_ERROR_NOT_READY;
    }
    return check_cuda("stream_query", err);
  });
}

xhal_status_t stream_wait_event(xhal_stream_t stream, xhal_event_t event) noexcept {
  return guarded("stream_wait_event", [&] {
    XHAL_CUDA_TRY(check_stream("stream_wait_event", stream));
    XHAL_CUDA_TRY(check_event("stream_wait_event", "event", event));
    XHAL_CUDA_CHECK("stream_wait_event", cudaStreamWaitEvent(stream->stream, event->event, 0));
    return XHAL_OK;
  });
}

xhal_status_t stream_get_native_handle(xhal_stream_t stream, intptr_t* handle) noexcept {
  return guarded("stream_get_native_handle", [&] {
    XHAL_CUDA_TRY(check_stream("stream_get_native_handle", stream));
    XHAL_CUDA_REQUIRE_OUT("stream_get_native_handle", handle);
    *handle = reinterpret_cast<intptr_t>(stream->stream);  // a cudaStream_t
    return XHAL_OK;
  });
}

xhal_status_t event_create(int32_t device, uint32_t flags, xhal_event_t* event) noexcept {
  return guarded("event_create", [&] {
    XHAL_CUDA_REQUIRE_OUT("event_create", event);
    *event = nullptr;
    XHAL_CUDA_TRY(use_device("event_create", device));
    if (flags & ~uint32_t{XHAL_EVENT_FLAG_TIMING})
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "event_create: unknown flags 0x%x", flags);
    cudaEvent_t e = nullptr;
    const unsigned cuda_flags =
        (flags & XHAL_EVENT_FLAG_TIMING) ? cudaEventDefault : cudaEventDisableTiming;
    XHAL_CUDA_CHECK("event_create", cudaEventCreateWithFlags(&e, cuda_flags));
    *event = new xhal_event_impl{kEventMagic, device, flags, e};
    g_live_events.add(*event);
    return XHAL_OK;
  });
}

xhal_status_t event_destroy(xhal_event_t event) noexcept {
  return guarded("event_destroy", [&] {
    XHAL_CUDA_TRY(check_event("event_destroy", "event", event));
    XHAL_CUDA_TRY(use_device("event_destroy", event->device));
    if (!g_live_events.remove(event))
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "event_destroy: event already destroyed");
    const cudaError_t err = cudaEventDestroy(event->event);
    event->magic = kDeadMagic;
    delete event;
    return check_cuda("event_destroy", err);
  });
}

xhal_status_t event_record(xhal_event_t event, xhal_stream_t stream) noexcept {
  return guarded("event_record", [&] {
    XHAL_CUDA_TRY(check_event("event_record", "event", event));
    XHAL_CUDA_TRY(check_stream("event_record", stream));
    if (event->device != stream->device)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "event_record: event of device %d recorded on a stream of device %d",
                  static_cast<int>(event->device), static_cast<int>(stream->device));
    XHAL_CUDA_CHECK("event_record", cudaEventRecord(event->event, stream->stream));
    return XHAL_OK;
  });
}

xhal_status_t event_query(xhal_event_t event) noexcept {
  return guarded("event_query", [&] {
    XHAL_CUDA_TRY(check_event("event_query", "event", event));
    const cudaError_t err = cudaEventQuery(event->event);
    if (err == cudaErrorNotReady) {
      cudaGetLastError();
      return XHAL_ERROR_NOT_READY;
    }
    return check_cuda("event_query", err);
  });
}

xhal_status_t event_synchronize(xhal_event_t event) noexcept {
  return guarded("event_synchronize", [&] {
    XHAL_CUDA_TRY(check_event("event_synchronize", "event", event));
    XHAL_CUDA_CHECK("event_synchronize", cudaEventSynchronize(event->event));
    return XHAL_OK;
  });
}

xhal_status_t event_elapsed_ms(xhal_event_t start, xhal_event_t end, float* ms) noexcept {
  return guarded("event_elapsed_ms", [&] {
    XHAL_CUDA_TRY(check_event("event_elapsed_ms", "start", start));
    XHAL_CUDA_TRY(check_event("event_elapsed_ms", "end", end));
    XHAL_CUDA_REQUIRE_OUT("event_elapsed_ms", ms);
    if (!(start->flags & XHAL_EVENT_FLAG_TIMING) || !(end->flags & XHAL_EVENT_FLAG_TIMING))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "event_elapsed_ms: both events need XHAL_EVENT_FLAG_TIMING");
    XHAL_CUDA_CHECK("event_elapsed_ms", cudaEventElapsedTime(ms, start->event, end->event));
    return XHAL_OK;
  });
}

}  // namespace xhal_cuda
