// npu_sim: the device interface — arena memory behind PROT_NONE handles, per-stream worker
// threads, events with timing. See runtime.h for the model and README.md for the why.
#include "runtime.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace npu_sim {
namespace {

constexpr uint64_t kAlignment = 256;                  // every allocation, reported in properties
constexpr uint64_t kDefaultMemory = 256ull << 20;     // NPU_SIM_MEMORY_BYTES overrides
using Clock = std::chrono::steady_clock;

const xhal_host_api_t* g_host = nullptr;

xhal_status_t fail(xhal_status_t status, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
xhal_status_t fail(xhal_status_t status, const char* fmt, ...) {
  char message[256];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(message, sizeof(message), fmt, args);
  va_end(args);
  return g_host->set_error(status, message);
}

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(value, &end, 10);
  return (end != nullptr && *end == '\0') ? static_cast<uint64_t>(v) : fallback;
}

// ---- device memory ------------------------------------------------------------------------

struct Device {
  std::mutex mu;
  uint64_t capacity = 0;
  uint8_t* arena = nullptr;    // where the bytes live (never handed out)
  uint8_t* handles = nullptr;  // PROT_NONE reservation of the same size: the addresses handed out
  std::map<uint64_t, uint64_t> free_blocks;  // offset -> size
  std::map<uint64_t, uint64_t> used_blocks;  // offset -> size
  uint64_t used_bytes = 0;
};

// Never destroyed: worker threads of streams the host did not destroy may still run at exit.
Device& g_device = *new Device();
std::once_flag g_device_once;
std::atomic<uint64_t> g_delay_us{0};

xhal_status_t init_device() {
  static xhal_status_t status = XHAL_OK;
  static char message[200];
  std::call_once(g_device_once, [] {
    uint64_t capacity = env_u64("NPU_SIM_MEMORY_BYTES", kDefaultMemory);
    capacity = (capacity + kAlignment - 1) / kAlignment * kAlignment;
    capacity = std::max<uint64_t>(kAlignment, capacity);
    void* arena = mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    void* handles =
        mmap(nullptr, capacity, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (arena == MAP_FAILED || handles == MAP_FAILED) {
      if (arena != MAP_FAILED) munmap(arena, capacity);
      if (handles != MAP_FAILED) munmap(handles, capacity);
      status = XHAL_ERROR_OUT_OF_MEMORY;
      std::snprintf(message, sizeof(message), "initialize: cannot map a %llu-byte device arena",
                    static_cast<unsigned long long>(capacity));
      return;
    }
    g_device.capacity = capacity;
    g_device.arena = static_cast<uint8_t*>(arena);
    g_device.handles = static_cast<uint8_t*>(handles);
    g_device.free_blocks[0] = capacity;
  });
  return status == XHAL_OK ? XHAL_OK : g_host->set_error(status, message);
}

// ---- streams and events -------------------------------------------------------------------

struct Stream {
  int32_t device = 0;
  std::mutex mu;
  std::condition_variable work_cv, idle_cv;
  std::deque<Task> queue;
  bool busy = false;
  bool stop = false;
  xhal_status_t error = XHAL_OK;
  std::string error_message;
  std::thread worker;

  void run() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      work_cv.wait(lock, [this] { return stop || !queue.empty(); });
      if (queue.empty()) return;  // stop requested and drained
      Task task = std::move(queue.front());
      queue.pop_front();
      busy = true;
      lock.unlock();
      const uint64_t delay = g_delay_us.load(std::memory_order_relaxed);
      if (delay > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay));
      std::string message;
      xhal_status_t status;
      try {
        status = task(message);
      } catch (const std::exception& e) {
        status = XHAL_ERROR_INTERNAL;
        message = std::string("queued work threw: ") + e.what();
      } catch (...) {
        status = XHAL_ERROR_INTERNAL;
        message = "queued work threw an unknown exception";
      }
      lock.lock();
      if (status != XHAL_OK && error == XHAL_OK) {  // the first error wins
        error = status;
        error_message = message.empty() ? "queued work failed" : message;
      }
      busy = false;
      if (queue.empty()) idle_cv.notify_all();
    }
  }

  bool pending() { return busy || !queue.empty(); }
};

std::mutex g_streams_mu;
std::set<Stream*> g_streams;

Stream* find_stream(xhal_stream_t handle) {
  std::lock_guard<std::mutex> lock(g_streams_mu);
  Stream* s = reinterpret_cast<Stream*>(handle);
  return g_streams.count(s) != 0 ? s : nullptr;
}

struct Event {
  int32_t device = 0;
  uint32_t flags = 0;
  std::mutex mu;
  std::condition_variable cv;
  uint64_t recorded = 0;   // generation of the last event_record
  uint64_t completed = 0;  // generation the stream has passed
  Clock::time_point when{};
};

struct EventHandle {
  std::shared_ptr<Event> event;
};

std::mutex g_events_mu;
std::set<EventHandle*> g_events;

std::shared_ptr<Event> find_event(xhal_event_t handle) {
  std::lock_guard<std::mutex> lock(g_events_mu);
  EventHandle* h = reinterpret_cast<EventHandle*>(handle);
  return g_events.count(h) != 0 ? h->event : nullptr;
}

// ---- entry points -------------------------------------------------------------------------

xhal_status_t initialize() {
  g_delay_us.store(env_u64("NPU_SIM_DELAY_US", 0));
  return init_device();
}

void finalize() {}

xhal_status_t device_count(int32_t* count) {
  if (count == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "device_count: count is NULL");
  *count = 1;
  return XHAL_OK;
}

xhal_status_t check_device(int32_t device, const char* what) {
  if (device != 0)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: device %d does not exist (there is 1)", what,
                device);
  return init_device();
}

xhal_status_t device_get_properties(int32_t device, xhal_device_properties_t* props) {
  if (props == nullptr)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "device_get_properties: props is NULL");
  if (xhal_status_t s = check_device(device, "device_get_properties")) return s;
  // Keep struct_size: the host set it to the size it knows; every field here is ABI 1.0.
  std::snprintf(props->name, sizeof(props->name), "npu_sim (simulated NPU, %llu MiB)",
                static_cast<unsigned long long>(g_device.capacity >> 20));
  std::snprintf(props->vendor, sizeof(props->vendor), "xhal");
  props->kind = XHAL_DEVICE_KIND_NPU;
  props->dlpack_device_type = XHAL_DL_EXT_DEV;
  props->total_memory = g_device.capacity;
  props->alignment = kAlignment;
  props->dtype_mask = (1ull << XHAL_DTYPE_FLOAT16) | (1ull << XHAL_DTYPE_BFLOAT16) |
                      (1ull << XHAL_DTYPE_FLOAT32);
  props->flags = XHAL_DEVICE_FLAG_ASYNC_STREAMS;  // not HOST_ACCESSIBLE: handles fault
  props->compute_units = 1;
  return XHAL_OK;
}

xhal_status_t device_memory_usage(int32_t device, uint64_t* free_bytes, uint64_t* total_bytes) {
  if (xhal_status_t s = check_device(device, "device_memory_usage")) return s;
  std::lock_guard<std::mutex> lock(g_device.mu);
  if (free_bytes) *free_bytes = g_device.capacity - g_device.used_bytes;
  if (total_bytes) *total_bytes = g_device.capacity;
  return XHAL_OK;
}

xhal_status_t mem_alloc(int32_t device, uint64_t size, uint64_t alignment, void** ptr) {
  if (ptr == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "mem_alloc: ptr is NULL");
  *ptr = nullptr;
  if (xhal_status_t s = check_device(device, "mem_alloc")) return s;
  if (size == 0) return XHAL_OK;
  if (alignment != 0 && (alignment & (alignment - 1)) != 0)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "mem_alloc: alignment %llu is not a power of two",
                static_cast<unsigned long long>(alignment));
  const uint64_t align = std::max(alignment, kAlignment);
  if (size > g_device.capacity)
    return fail(XHAL_ERROR_OUT_OF_MEMORY,
                "mem_alloc: %llu bytes requested, the device has %llu (NPU_SIM_MEMORY_BYTES)",
                static_cast<unsigned long long>(size),
                static_cast<unsigned long long>(g_device.capacity));
  const uint64_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
  std::lock_guard<std::mutex> lock(g_device.mu);
  uint64_t largest = 0;
  for (auto it = g_device.free_blocks.begin(); it != g_device.free_blocks.end(); ++it) {
    const uint64_t off = it->first, len = it->second;
    largest = std::max(largest, len);
    const uint64_t start = (off + align - 1) / align * align;
    if (start + rounded > off + len) continue;
    // First fit: split [off, start) and [start + rounded, off + len) back into the free list.
    g_device.free_blocks.erase(it);
    if (start > off) g_device.free_blocks[off] = start - off;
    if (off + len > start + rounded)
      g_device.free_blocks[start + rounded] = off + len - start - rounded;
    g_device.used_blocks[start] = rounded;
    g_device.used_bytes += rounded;
    *ptr = g_device.handles + start;
    return XHAL_OK;
  }
  return fail(XHAL_ERROR_OUT_OF_MEMORY,
              "mem_alloc: out of device memory: %llu bytes requested, %llu of %llu in use, "
              "largest free block %llu (NPU_SIM_MEMORY_BYTES)",
              static_cast<unsigned long long>(size),
              static_cast<unsigned long long>(g_device.used_bytes),
              static_cast<unsigned long long>(g_device.capacity),
              static_cast<unsigned long long>(largest));
}

xhal_status_t mem_free(int32_t device, void* ptr) {
  if (ptr == nullptr) return XHAL_OK;
  if (xhal_status_t s = check_device(device, "mem_free")) return s;
  const uint8_t* p = static_cast<const uint8_t*>(ptr);
  std::lock_guard<std::mutex> lock(g_device.mu);
  auto it = (p >= g_device.handles && p < g_device.handles + g_device.capacity)
                ? g_device.used_blocks.find(static_cast<uint64_t>(p - g_device.handles))
                : g_device.used_blocks.end();
  if (it == g_device.used_blocks.end())
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "mem_free: %p is not an allocation of this device (freed twice, or offset)", ptr);
  uint64_t off = it->first, len = it->second;
  g_device.used_blocks.erase(it);
  g_device.used_bytes -= len;
  // Coalesce with the free neighbours.
  auto next = g_device.free_blocks.lower_bound(off);
  if (next != g_device.free_blocks.end() && next->first == off + len) {
    len += next->second;
    next = g_device.free_blocks.erase(next);
  }
  if (next != g_device.free_blocks.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == off) {
      off = prev->first;
      len += prev->second;
      g_device.free_blocks.erase(prev);
    }
  }
  g_device.free_blocks[off] = len;
  return XHAL_OK;
}

// True when [p, p + bytes) of the arena is still inside one live allocation. Queued copies check
// this when they run: a host that frees a buffer before the work using it has run (no
// synchronisation before mem_free) gets an error at its next synchronize, not silent garbage.
bool live_range(const uint8_t* p, uint64_t bytes) {
  if (p < g_device.arena || p >= g_device.arena + g_device.capacity) return true;  // host memory
  const uint64_t off = static_cast<uint64_t>(p - g_device.arena);
  std::lock_guard<std::mutex> lock(g_device.mu);
  auto it = g_device.used_blocks.upper_bound(off);
  if (it == g_device.used_blocks.begin()) return false;
  --it;
  return off + bytes <= it->first + it->second;
}

xhal_status_t enqueue_on(Stream* s, Task task) {
  std::lock_guard<std::mutex> lock(s->mu);
  s->queue.push_back(std::move(task));
  s->work_cv.notify_one();
  return XHAL_OK;
}

Stream* stream_arg(xhal_stream_t stream, const char* what, xhal_status_t* status) {
  Stream* s = find_stream(stream);
  if (s == nullptr)
    *status = fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %p is not an npu_sim stream", what,
                   static_cast<void*>(stream));
  return s;
}

xhal_status_t mem_set_async(xhal_stream_t stream, void* dst, int32_t value, uint64_t size) {
  xhal_status_t status = XHAL_OK;
  Stream* s = stream_arg(stream, "mem_set_async", &status);
  if (s == nullptr) return status;
  if (size == 0) return XHAL_OK;
  uint8_t* d = nullptr;
  if ((status = translate(s->device, dst, size, "mem_set_async: dst", &d))) return status;
  return enqueue_on(s, [d, value, size](std::string& message) {
    if (!live_range(d, size)) {
      message = "mem_set_async: the device buffer was freed before the queued memset ran";
      return XHAL_ERROR_INVALID_ARGUMENT;
    }
    std::memset(d, value, size);
    return XHAL_OK;
  });
}

xhal_status_t memcpy_async(xhal_stream_t stream, void* dst, const void* src, uint64_t size,
                           int32_t kind) {
  xhal_status_t status = XHAL_OK;
  Stream* s = stream_arg(stream, "memcpy_async", &status);
  if (s == nullptr) return status;
  if (size == 0) return XHAL_OK;
  uint8_t* d = nullptr;
  const uint8_t* from = nullptr;
  switch (kind) {
    case XHAL_COPY_HOST_TO_DEVICE:
      if (src == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "memcpy_async: src is NULL");
      if ((status = translate(s->device, dst, size, "memcpy_async: dst", &d))) return status;
      from = static_cast<const uint8_t*>(src);  // read when the stream gets there
      break;
    case XHAL_COPY_DEVICE_TO_HOST: {
      if (dst == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "memcpy_async: dst is NULL");
      uint8_t* a = nullptr;
      if ((status = translate(s->device, src, size, "memcpy_async: src", &a))) return status;
      from = a;
      d = static_cast<uint8_t*>(dst);
      break;
    }
    case XHAL_COPY_DEVICE_TO_DEVICE: {
      uint8_t* a = nullptr;
      if ((status = translate(s->device, src, size, "memcpy_async: src", &a))) return status;
      if ((status = translate(s->device, dst, size, "memcpy_async: dst", &d))) return status;
      if (a < d + size && d < a + size)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "memcpy_async: device-to-device ranges overlap (src %p, dst %p, %llu bytes)",
                    src, dst, static_cast<unsigned long long>(size));
      from = a;
      break;
    }
    default:
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "memcpy_async: unknown copy kind %d", kind);
  }
  return enqueue_on(s, [d, from, size](std::string& message) {
    if (!live_range(d, size) || !live_range(from, size)) {
      message = "memcpy_async: a device buffer was freed before the queued copy ran";
      return XHAL_ERROR_INVALID_ARGUMENT;
    }
    std::memcpy(d, from, size);
    return XHAL_OK;
  });
}

xhal_status_t stream_create(int32_t device, xhal_stream_t* stream) {
  if (stream == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "stream_create: stream is NULL");
  if (xhal_status_t s = check_device(device, "stream_create")) return s;
  auto s = std::make_unique<Stream>();
  s->device = device;
  try {
    Stream* raw = s.get();
    s->worker = std::thread([raw] { raw->run(); });
  } catch (const std::exception& e) {
    return fail(XHAL_ERROR_DEVICE, "stream_create: cannot start the worker thread: %s", e.what());
  }
  std::lock_guard<std::mutex> lock(g_streams_mu);
  g_streams.insert(s.get());
  *stream = reinterpret_cast<xhal_stream_t>(s.release());
  return XHAL_OK;
}

// Waits until the stream has drained; returns (and clears) the first error of its queued work.
xhal_status_t drain(Stream* s, const char* what) {
  std::unique_lock<std::mutex> lock(s->mu);
  s->idle_cv.wait(lock, [s] { return !s->pending(); });
  if (s->error == XHAL_OK) return XHAL_OK;
  const xhal_status_t error = s->error;
  const std::string message = s->error_message;
  s->error = XHAL_OK;
  s->error_message.clear();
  lock.unlock();
  return fail(error, "%s: queued work failed: %s", what, message.c_str());
}

xhal_status_t stream_destroy(xhal_stream_t stream) {
  Stream* s = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_streams_mu);
    s = reinterpret_cast<Stream*>(stream);
    if (g_streams.erase(s) == 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "stream_destroy: %p is not an npu_sim stream",
                  static_cast<void*>(stream));
  }
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->stop = true;  // the worker drains what is queued, then exits
    s->work_cv.notify_all();
  }
  s->worker.join();
  delete s;
  return XHAL_OK;
}

xhal_status_t stream_synchronize(xhal_stream_t stream) {
  xhal_status_t status = XHAL_OK;
  Stream* s = stream_arg(stream, "stream_synchronize", &status);
  return s == nullptr ? status : drain(s, "stream_synchronize");
}

xhal_status_t stream_query(xhal_stream_t stream) {
  xhal_status_t status = XHAL_OK;
  Stream* s = stream_arg(stream, "stream_query", &status);
  if (s == nullptr) return status;
  std::lock_guard<std::mutex> lock(s->mu);
  return s->pending() ? XHAL_ERROR_NOT_READY : XHAL_OK;
}

xhal_status_t stream_wait_event(xhal_stream_t stream, xhal_event_t event) {
  xhal_status_t status = XHAL_OK;
  Stream* s = stream_arg(stream, "stream_wait_event", &status);
  if (s == nullptr) return status;
  std::shared_ptr<Event> e = find_event(event);
  if (!e)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "stream_wait_event: %p is not an npu_sim event",
                static_cast<void*>(event));
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(e->mu);
    generation = e->recorded;  // waits for the record made before this call; none: no wait
  }
  if (generation == 0) return XHAL_OK;
  return enqueue_on(s, [e, generation](std::string&) {
    std::unique_lock<std::mutex> lock(e->mu);
    e->cv.wait(lock, [&] { return e->completed >= generation; });
    return XHAL_OK;
  });
}

xhal_status_t stream_get_native_handle(xhal_stream_t stream, intptr_t* handle) {
  if (handle == nullptr)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "stream_get_native_handle: handle is NULL");
  xhal_status_t status = XHAL_OK;
  if (stream_arg(stream, "stream_get_native_handle", &status) == nullptr) return status;
  *handle = 0;  // no native stream object to share
  return XHAL_OK;
}

xhal_status_t device_synchronize(int32_t device) {
  if (xhal_status_t s = check_device(device, "device_synchronize")) return s;
  std::vector<Stream*> streams;
  {
    std::lock_guard<std::mutex> lock(g_streams_mu);
    for (Stream* s : g_streams)
      if (s->device == device) streams.push_back(s);
  }
  xhal_status_t first = XHAL_OK;
  for (Stream* s : streams) {
    const xhal_status_t status = drain(s, "device_synchronize");
    if (first == XHAL_OK) first = status;
  }
  return first;
}

xhal_status_t event_create(int32_t device, uint32_t flags, xhal_event_t* event) {
  if (event == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "event_create: event is NULL");
  if (xhal_status_t s = check_device(device, "event_create")) return s;
  auto h = std::make_unique<EventHandle>();
  h->event = std::make_shared<Event>();
  h->event->device = device;
  h->event->flags = flags;
  std::lock_guard<std::mutex> lock(g_events_mu);
  g_events.insert(h.get());
  *event = reinterpret_cast<xhal_event_t>(h.release());
  return XHAL_OK;
}

xhal_status_t event_destroy(xhal_event_t event) {
  std::lock_guard<std::mutex> lock(g_events_mu);
  EventHandle* h = reinterpret_cast<EventHandle*>(event);
  if (g_events.erase(h) == 0)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "event_destroy: %p is not an npu_sim event",
                static_cast<void*>(event));
  delete h;  // queued records and waits keep the Event itself alive
  return XHAL_OK;
}

xhal_status_t event_record(xhal_event_t event, xhal_stream_t stream) {
  xhal_status_t status = XHAL_OK;
  Stream* s = stream_arg(stream, "event_record", &status);
  if (s == nullptr) return status;
  std::shared_ptr<Event> e = find_event(event);
  if (!e)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "event_record: %p is not an npu_sim event",
                static_cast<void*>(event));
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(e->mu);
    generation = ++e->recorded;
  }
  return enqueue_on(s, [e, generation](std::string&) {
    std::lock_guard<std::mutex> lock(e->mu);
    if (generation > e->completed) {
      e->completed = generation;
      e->when = Clock::now();
    }
    e->cv.notify_all();
    return XHAL_OK;
  });
}

xhal_status_t event_query(xhal_event_t event) {
  std::shared_ptr<Event> e = find_event(event);
  if (!e)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "event_query: %p is not an npu_sim event",
                static_cast<void*>(event));
  std::lock_guard<std::mutex> lock(e->mu);
  return e->completed >= e->recorded ? XHAL_OK : XHAL_ERROR_NOT_READY;
}

xhal_status_t event_synchronize(xhal_event_t event) {
  std::shared_ptr<Event> e = find_event(event);
  if (!e)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "event_synchronize: %p is not an npu_sim event",
                static_cast<void*>(event));
  std::unique_lock<std::mutex> lock(e->mu);
  e->cv.wait(lock, [&] { return e->completed >= e->recorded; });
  return XHAL_OK;
}

xhal_status_t event_elapsed_ms(xhal_event_t start, xhal_event_t end, float* ms) {
  if (ms == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "event_elapsed_ms: ms is NULL");
  std::shared_ptr<Event> a = find_event(start), b = find_event(end);
  if (!a || !b)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "event_elapsed_ms: %p is not an npu_sim event",
                static_cast<void*>(!a ? start : end));
  Clock::time_point ta, tb;
  for (auto* pair : {&a, &b}) {
    Event& e = **pair;
    std::lock_guard<std::mutex> lock(e.mu);
    if (e.recorded == 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "event_elapsed_ms: an event was never recorded");
    if (e.completed < e.recorded) return XHAL_ERROR_NOT_READY;
    (pair == &a ? ta : tb) = e.when;
  }
  *ms = std::chrono::duration<float, std::milli>(tb - ta).count();
  return XHAL_OK;
}

}  // namespace

const xhal_host_api_t* host() { return g_host; }
void set_host(const xhal_host_api_t* h) { g_host = h; }

xhal_status_t enqueue(xhal_stream_t stream, Task task) {
  xhal_status_t status = XHAL_OK;
  Stream* s = stream_arg(stream, "kernel launch", &status);
  return s == nullptr ? status : enqueue_on(s, std::move(task));
}

xhal_status_t translate(int32_t device, const void* ptr, uint64_t bytes, const char* what,
                        uint8_t** out) {
  *out = nullptr;
  if (ptr == nullptr && bytes == 0) return XHAL_OK;
  if (xhal_status_t s = check_device(device, what)) return s;
  const uint8_t* p = static_cast<const uint8_t*>(ptr);
  if (p < g_device.handles || p >= g_device.handles + g_device.capacity)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %p is not an npu_sim device address", what, ptr);
  const uint64_t off = static_cast<uint64_t>(p - g_device.handles);
  std::lock_guard<std::mutex> lock(g_device.mu);
  auto it = g_device.used_blocks.upper_bound(off);
  if (it == g_device.used_blocks.begin())
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %p is not inside a live allocation", what, ptr);
  --it;
  if (off + bytes > it->first + it->second)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: [%p, +%llu bytes) is not inside a live allocation", what, ptr,
                static_cast<unsigned long long>(bytes));
  *out = g_device.arena + off;
  return XHAL_OK;
}

bool still_live(const uint8_t* p, uint64_t bytes) { return live_range(p, bytes); }

void fill_runtime(xhal_plugin_api_t* api) {
  api->initialize = &initialize;
  api->finalize = &finalize;
  api->device_count = &device_count;
  api->device_get_properties = &device_get_properties;
  api->device_synchronize = &device_synchronize;
  api->device_memory_usage = &device_memory_usage;
  api->mem_alloc = &mem_alloc;
  api->mem_free = &mem_free;
  api->mem_set_async = &mem_set_async;
  api->memcpy_async = &memcpy_async;
  api->stream_create = &stream_create;
  api->stream_destroy = &stream_destroy;
  api->stream_synchronize = &stream_synchronize;
  api->stream_query = &stream_query;
  api->stream_wait_event = &stream_wait_event;
  api->stream_get_native_handle = &stream_get_native_handle;
  api->event_create = &event_create;
  api->event_destroy = &event_destroy;
  api->event_record = &event_record;
  api->event_query = &event_query;
  api->event_synchronize = &event_synchronize;
  api->event_elapsed_ms = &event_elapsed_ms;
}

}  // namespace npu_sim
