// Device, memory, stream and event entry points of the CPU device.
//
// Stream model: a kernel or copy enqueued on a stream runs to completion on the calling thread
// before the call returns. That is a valid stream-ordered implementation (work on one stream
// completes in issue order, and everything issued is done by the time the host synchronises),
// the same choice as PaddlePaddle's custom_cpu reference device. Hence queries always report
// completion, synchronisation returns at once, and XHAL_DEVICE_FLAG_ASYNC_STREAMS is not set.
#include "runtime.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

#include "config.h"
#include "host.h"
#include "thread_pool.h"

// The opaque handle types of the ABI. Whether a handle is live is decided by LiveHandles below;
// the magic numbers only make live and destroyed objects recognisable in a debugger.
struct xhal_stream_impl {
  uint32_t magic;
  int32_t device;
};

struct xhal_event_impl {
  uint32_t magic;
  int32_t device;
  uint32_t flags;
  std::atomic<bool> recorded{false};
  std::atomic<int64_t> time_ns{0};  // steady_clock at the last record
};

namespace xhal_cpu {
namespace {

constexpr uint32_t kStreamMagic = 0x5354524du;  // "STRM"
constexpr uint32_t kEventMagic = 0x45564e54u;   // "EVNT"
constexpr uint32_t kDeadMagic = 0xdeadbeefu;
constexpr uint64_t kAlignment = 64;  // a cache line; enough for any SIMD load
// Blocks of kPageAlignFrom bytes or more start on a page (D33). The caching allocator's size
// classes made consecutive blocks start a whole number of MiB plus glibc's 128-byte header
// apart, so an elementwise kernel's loads of X[i + 32] met its stores to Y[i] at the same
// address modulo 4 KiB (4K aliasing): exp on 1e6 floats took about 1.15x the time. Page-aligned
// blocks are all the same distance from their pages, and the aliasing needs a small nonzero one.
constexpr uint64_t kPageAlignFrom = 64 * 1024;
constexpr uint64_t kPage = 4096;
constexpr int32_t kDeviceCount = 1;

xhal_status_t check_device(const char* fn, int32_t device) {
  if (device < 0 || device >= kDeviceCount)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: device %d does not exist (xhal.cpu has %d)", fn,
                static_cast<int>(device), static_cast<int>(kDeviceCount));
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
                "%s: not a live xhal.cpu stream handle (destroyed, or not created here)", fn);
  return XHAL_OK;
}

xhal_status_t check_event(const char* fn, const char* role, xhal_event_t event) {
  if (event == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", fn, role);
  if (!g_live_events.contains(event))
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: %s is not a live xhal.cpu event handle (destroyed, or not created here)",
                fn, role);
  return XHAL_OK;
}

#define XHAL_CPU_REQUIRE_OUT(fn, ptr)                                                        \
  do {                                                                                       \
    if ((ptr) == nullptr)                                                                    \
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output pointer '%s' is NULL", fn, #ptr); \
  } while (0)

// Value of "key : value" lines in /proc files such as /proc/cpuinfo and /proc/meminfo.
std::string proc_field(const char* path, const char* key) {
  std::ifstream in(path);
  std::string line;
  const size_t key_len = std::strlen(key);
  while (std::getline(in, line)) {
    if (line.compare(0, key_len, key) != 0) continue;
    size_t colon = line.find(':', key_len);
    if (colon == std::string::npos) continue;
    if (line.find_first_not_of(" \t", key_len) != colon) continue;  // "key" is a prefix only
    size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? std::string() : line.substr(start);
  }
  return std::string();
}

uint64_t physical_memory() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  uint64_t total = pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
  // Inside a container the cgroup (v2) limit is what this process may really use.
  std::ifstream cg("/sys/fs/cgroup/memory.max");
  unsigned long long limit = 0;
  if (cg >> limit && limit > 0 && (total == 0 || limit < total)) total = limit;
  return total;
}

uint64_t available_memory(uint64_t total) {
  std::string avail = proc_field("/proc/meminfo", "MemAvailable");  // "123456 kB"
  uint64_t free_bytes = 0;
  if (!avail.empty()) {
    free_bytes = std::strtoull(avail.c_str(), nullptr, 10) * 1024u;
  } else {
    long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) free_bytes = uint64_t(pages) * uint64_t(page);
  }
  std::ifstream cg("/sys/fs/cgroup/memory.current");
  unsigned long long used = 0;
  if (cg >> used && used <= total && total - used < free_bytes) free_bytes = total - used;
  return free_bytes < total ? free_bytes : total;
}

void copy_string(char* dst, size_t cap, const std::string& src) {
  std::snprintf(dst, cap, "%s", src.c_str());
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

uint64_t supported_dtype_mask() {
  const int32_t dtypes[] = {XHAL_DTYPE_FLOAT32, XHAL_DTYPE_FLOAT64, XHAL_DTYPE_FLOAT16,
                            XHAL_DTYPE_INT32,   XHAL_DTYPE_INT64,   XHAL_DTYPE_BOOL,
                            XHAL_DTYPE_INT8,    XHAL_DTYPE_UINT8,   XHAL_DTYPE_BFLOAT16};
  uint64_t mask = 0;
  for (int32_t d : dtypes) mask |= uint64_t{1} << d;
  return mask;
}

xhal_status_t initialize() noexcept {
  return guarded("initialize", [] {
    num_threads();  // reads XHAL_CPU_THREADS and configures OpenBLAS once
    return XHAL_OK;
  });
}

void finalize() noexcept {
  guarded("finalize", [] {
    shutdown_thread_pool();
    return XHAL_OK;
  });
}

xhal_status_t device_count(int32_t* count) noexcept {
  XHAL_CPU_REQUIRE_OUT("device_count", count);
  *count = kDeviceCount;
  return XHAL_OK;
}

xhal_status_t device_get_properties(int32_t device, xhal_device_properties_t* props) noexcept {
  return guarded("device_get_properties", [&] {
    XHAL_CPU_TRY(check_device("device_get_properties", device));
    XHAL_CPU_REQUIRE_OUT("device_get_properties", props);
    if (props->struct_size < sizeof(size_t))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "device_get_properties: props->struct_size (%zu) is too small",
                  props->struct_size);
    xhal_device_properties_t p;
    std::memset(&p, 0, sizeof p);
    // /proc/cpuinfo does not change while we run: read it once.
    static const std::string name = [] {
      const unsigned hw = std::thread::hardware_concurrency();
      std::string model = proc_field("/proc/cpuinfo", "model name");
      if (model.empty()) model = "CPU";
      return model + " (" + std::to_string(hw == 0 ? 1 : hw) + " cores)";
    }();
    static const std::string vendor = [] {
      std::string v = proc_field("/proc/cpuinfo", "vendor_id");
      if (v == "GenuineIntel") return std::string("Intel");
      if (v == "AuthenticAMD") return std::string("AMD");
      return v.empty() ? std::string("unknown") : v;
    }();
    copy_string(p.name, sizeof p.name, name);
    copy_string(p.vendor, sizeof p.vendor, vendor);
    p.kind = XHAL_DEVICE_KIND_CPU;
    p.dlpack_device_type = XHAL_DL_CPU;
    p.total_memory = physical_memory();
    p.alignment = kAlignment;
    p.dtype_mask = supported_dtype_mask();
    p.flags = XHAL_DEVICE_FLAG_HOST_ACCESSIBLE | XHAL_DEVICE_FLAG_HOST_MAY_SUBALLOCATE;
    p.compute_units = num_threads();
    // Fill only what the caller's struct has room for (it may be older or newer than ours).
    const size_t n = props->struct_size < sizeof p ? props->struct_size : sizeof p;
    std::memcpy(reinterpret_cast<char*>(props) + sizeof(size_t),
                reinterpret_cast<const char*>(&p) + sizeof(size_t), n - sizeof(size_t));
    return XHAL_OK;
  });
}

xhal_status_t device_synchronize(int32_t device) noexcept {
  return check_device("device_synchronize", device);  // all work already completed
}

xhal_status_t device_memory_usage(int32_t device, uint64_t* free_bytes,
                                  uint64_t* total_bytes) noexcept {
  return guarded("device_memory_usage", [&] {
    XHAL_CPU_TRY(check_device("device_memory_usage", device));
    XHAL_CPU_REQUIRE_OUT("device_memory_usage", free_bytes);
    XHAL_CPU_REQUIRE_OUT("device_memory_usage", total_bytes);
    const uint64_t total = physical_memory();
    *total_bytes = total;
    *free_bytes = available_memory(total);
    return XHAL_OK;
  });
}

xhal_status_t mem_alloc(int32_t device, uint64_t size, uint64_t alignment, void** ptr) noexcept {
  XHAL_CPU_TRY(check_device("mem_alloc", device));
  XHAL_CPU_REQUIRE_OUT("mem_alloc", ptr);
  *ptr = nullptr;
  if (alignment != 0 && (alignment & (alignment - 1)) != 0)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "mem_alloc: alignment %llu is not a power of two",
                static_cast<unsigned long long>(alignment));
  if (size == 0) return XHAL_OK;
  uint64_t align = alignment > kAlignment ? alignment : kAlignment;
  if (size >= kPageAlignFrom && align < kPage) align = kPage;
  // Round the size up to the alignment so the last block can be read with full SIMD loads.
  if (size > UINT64_MAX - align || size + align > SIZE_MAX)
    return fail(XHAL_ERROR_OUT_OF_MEMORY, "mem_alloc: cannot allocate %llu bytes",
                static_cast<unsigned long long>(size));
  const size_t bytes = static_cast<size_t>((size + align - 1) / align * align);
  void* p = nullptr;
  const int rc = posix_memalign(&p, static_cast<size_t>(align), bytes);
  if (rc != 0 || p == nullptr)
    return fail(XHAL_ERROR_OUT_OF_MEMORY,
                "mem_alloc: out of memory allocating %llu bytes (alignment %llu): %s",
                static_cast<unsigned long long>(size), static_cast<unsigned long long>(align),
                std::strerror(rc));
  *ptr = p;
  return XHAL_OK;
}

xhal_status_t mem_free(int32_t device, void* ptr) noexcept {
  XHAL_CPU_TRY(check_device("mem_free", device));
  std::free(ptr);  // NULL is a no-op
  return XHAL_OK;
}

xhal_status_t mem_set_async(xhal_stream_t stream, void* dst, int32_t value,
                            uint64_t size) noexcept {
  XHAL_CPU_TRY(check_stream("mem_set_async", stream));
  if (size == 0) return XHAL_OK;
  if (dst == nullptr)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "mem_set_async: dst is NULL (size %llu)",
                static_cast<unsigned long long>(size));
  std::memset(dst, value, static_cast<size_t>(size));  // byte value, like memset/cudaMemset
  return XHAL_OK;
}

xhal_status_t memcpy_async(xhal_stream_t stream, void* dst, const void* src, uint64_t size,
                           int32_t kind) noexcept {
  XHAL_CPU_TRY(check_stream("memcpy_async", stream));
  if (kind != XHAL_COPY_HOST_TO_DEVICE && kind != XHAL_COPY_DEVICE_TO_HOST &&
      kind != XHAL_COPY_DEVICE_TO_DEVICE)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "memcpy_async: unknown copy kind %d",
                static_cast<int>(kind));
  if (size == 0) return XHAL_OK;
  if (dst == nullptr || src == nullptr)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "memcpy_async: %s is NULL (size %llu)",
                dst == nullptr ? "dst" : "src", static_cast<unsigned long long>(size));
  // The ABI's copy is memcpy, not memmove: overlapping device ranges are the caller's bug.
  if (kind == XHAL_COPY_DEVICE_TO_DEVICE) {
    const auto d = reinterpret_cast<uintptr_t>(dst), s = reinterpret_cast<uintptr_t>(src);
    if (d < s + size && s < d + size)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "memcpy_async: device-to-device ranges overlap (src %p, dst %p, %llu bytes)",
                  src, dst, static_cast<unsigned long long>(size));
  }
  // Host and device memory are the same memory, so every kind is a plain copy.
  std::memcpy(dst, src, static_cast<size_t>(size));
  return XHAL_OK;
}

xhal_status_t stream_create(int32_t device, xhal_stream_t* stream) noexcept {
  return guarded("stream_create", [&] {
    XHAL_CPU_REQUIRE_OUT("stream_create", stream);
    *stream = nullptr;
    XHAL_CPU_TRY(check_device("stream_create", device));
    *stream = new xhal_stream_impl{kStreamMagic, device};
    g_live_streams.add(*stream);
    return XHAL_OK;
  });
}

xhal_status_t stream_destroy(xhal_stream_t stream) noexcept {
  XHAL_CPU_TRY(check_stream("stream_destroy", stream));
  if (!g_live_streams.remove(stream))  // destroyed by another thread meanwhile
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "stream_destroy: stream already destroyed");
  stream->magic = kDeadMagic;
  delete stream;
  return XHAL_OK;
}

xhal_status_t stream_synchronize(xhal_stream_t stream) noexcept {
  return check_stream("stream_synchronize", stream);
}

xhal_status_t stream_query(xhal_stream_t stream) noexcept {
  return check_stream("stream_query", stream);  // XHAL_OK: nothing is ever pending
}

xhal_status_t stream_wait_event(xhal_stream_t stream, xhal_event_t event) noexcept {
  XHAL_CPU_TRY(check_stream("stream_wait_event", stream));
  return check_event("stream_wait_event", "event", event);  // the event has already happened
}

xhal_status_t stream_get_native_handle(xhal_stream_t stream, intptr_t* handle) noexcept {
  XHAL_CPU_TRY(check_stream("stream_get_native_handle", stream));
  XHAL_CPU_REQUIRE_OUT("stream_get_native_handle", handle);
  *handle = 0;  // the CPU has no native queue object
  return XHAL_OK;
}

xhal_status_t event_create(int32_t device, uint32_t flags, xhal_event_t* event) noexcept {
  return guarded("event_create", [&] {
    XHAL_CPU_REQUIRE_OUT("event_create", event);
    *event = nullptr;
    XHAL_CPU_TRY(check_device("event_create", device));
    auto* e = new xhal_event_impl;
    e->magic = kEventMagic;
    e->device = device;
    e->flags = flags;  // unknown flag bits are ignored (later ABI minors may add some)
    g_live_events.add(e);
    *event = e;
    return XHAL_OK;
  });
}

xhal_status_t event_destroy(xhal_event_t event) noexcept {
  XHAL_CPU_TRY(check_event("event_destroy", "event", event));
  if (!g_live_events.remove(event))
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "event_destroy: event already destroyed");
  event->magic = kDeadMagic;
  delete event;
  return XHAL_OK;
}

xhal_status_t event_record(xhal_event_t event, xhal_stream_t stream) noexcept {
  XHAL_CPU_TRY(check_event("event_record", "event", event));
  XHAL_CPU_TRY(check_stream("event_record", stream));
  if (stream->device != event->device)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "event_record: event of device %d recorded on a stream of device %d",
                static_cast<int>(event->device), static_cast<int>(stream->device));
  // Everything issued to the stream before this call has completed, so "now" is the time the
  // stream reached the event.
  event->time_ns.store(now_ns(), std::memory_order_relaxed);
  event->recorded.store(true, std::memory_order_release);
  return XHAL_OK;
}

xhal_status_t event_query(xhal_event_t event) noexcept {
  return check_event("event_query", "event", event);  // recorded work is always complete
}

xhal_status_t event_synchronize(xhal_event_t event) noexcept {
  return check_event("event_synchronize", "event", event);
}

xhal_status_t event_elapsed_ms(xhal_event_t start, xhal_event_t end, float* ms) noexcept {
  XHAL_CPU_TRY(check_event("event_elapsed_ms", "start", start));
  XHAL_CPU_TRY(check_event("event_elapsed_ms", "end", end));
  XHAL_CPU_REQUIRE_OUT("event_elapsed_ms", ms);
  if (!(start->flags & XHAL_EVENT_FLAG_TIMING) || !(end->flags & XHAL_EVENT_FLAG_TIMING))
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "event_elapsed_ms: both events need XHAL_EVENT_FLAG_TIMING at creation");
  if (!start->recorded.load(std::memory_order_acquire) ||
      !end->recorded.load(std::memory_order_acquire))
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "event_elapsed_ms: %s event has not been recorded",
                start->recorded.load() ? "the end" : "the start");
  const int64_t dt =
      end->time_ns.load(std::memory_order_relaxed) - start->time_ns.load(std::memory_order_relaxed);
  *ms = static_cast<float>(static_cast<double>(dt) / 1e6);
  return XHAL_OK;
}

}  // namespace xhal_cpu
