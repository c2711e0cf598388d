// xhal-runtime-check: runtime conformance of one plugin (the device interface, not the ops).
//
// A minimal host: it dlopens the plugin, hands it a host table of its own (set_error keeps the
// message per thread, register_kernel captures the kernel definitions), calls
// xhal_get_plugin_api and drives the plugin table of <xhal/xhal_abi.h> directly. Nothing here
// assumes a kind of device: device memory is only ever read through memcpy_async
// DEVICE_TO_HOST, streams may be asynchronous, memory may be huge (exhaustion is one request
// larger than props.total_memory, never a fill).
//
// Every check is reported separately: pass, fail (with the plugin's message), unsupported (an
// entry point is NULL, or a misuse the plugin does not detect), no-device, leak, crashed or
// timeout. Checks that may legitimately crash a plugin (double free, a foreign pointer, a
// destroyed handle) and the ABI negotiation checks (another host table) run in a child process
// of their own (this program, re-executed with --only), so that the checker survives them.
//
//   xhal-runtime-check [--json] [--device N] [--only NAME[,NAME]] [--skip NAME@DEV[,...]]
//                      [--child-timeout SECONDS] [--list] PLUGIN.so
//
// --json prints one JSON object per line: {"event":"plugin",...} once, then per check
// {"event":"begin","check","device"} and {"event":"result","check","device","outcome",
// "message","seconds"}. A driver that sees the process die after a "begin" knows which check
// crashed (conformance/runtime.py restarts it with --skip). Exit status: 0 when no check failed,
// 1 when one failed (fail, leak, crashed, timeout), 2 when the plugin cannot be loaded.
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xhal/xhal_abi.h>
#include <xhal/xhal_ops.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

// The host owns the registry type; the plugin sees an opaque pointer.
struct xhal_registry_impl {
  std::vector<xhal_kernel_def_t> defs;
};

namespace {

// ---- the host table ---------------------------------------------------------------------------

thread_local std::string t_error;  // the message of the last set_error on this thread

xhal_status_t host_set_error(xhal_status_t status, const char* message) {
  t_error = message != nullptr ? message : "";
  return status;
}

void host_log(int32_t level, const char* message) {
  (void)level;
  (void)message;
}

xhal_status_t host_register_kernel(xhal_registry_t registry, const xhal_kernel_def_t* def) {
  if (registry == nullptr || def == nullptr)
    return host_set_error(XHAL_ERROR_INVALID_ARGUMENT, "register_kernel: NULL registry or def");
  xhal_kernel_def_t copy;
  std::memset(&copy, 0, sizeof copy);
  std::memcpy(&copy, def, std::min(def->struct_size, sizeof copy));
  copy.struct_size = sizeof copy;
  registry->defs.push_back(copy);
  return XHAL_OK;
}

// A newer host's table: ABI 1.x fields followed by fields this plugin cannot know.
struct PaddedHost {
  xhal_host_api_t base;
  void* future[16];
};
PaddedHost g_host;

const char* status_name(xhal_status_t s) {
  switch (s) {
    case XHAL_OK: return "XHAL_OK";
    case XHAL_ERROR_INVALID_ARGUMENT: return "XHAL_ERROR_INVALID_ARGUMENT";
    case XHAL_ERROR_OUT_OF_MEMORY: return "XHAL_ERROR_OUT_OF_MEMORY";
    case XHAL_ERROR_UNSUPPORTED: return "XHAL_ERROR_UNSUPPORTED";
    case XHAL_ERROR_NOT_READY: return "XHAL_ERROR_NOT_READY";
    case XHAL_ERROR_DEVICE: return "XHAL_ERROR_DEVICE";
    case XHAL_ERROR_INTERNAL: return "XHAL_ERROR_INTERNAL";
    case XHAL_ERROR_ABI_MISMATCH: return "XHAL_ERROR_ABI_MISMATCH";
  }
  return "unknown status";
}

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[1024];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

// ---- outcomes ---------------------------------------------------------------------------------

const char* const PASS = "pass";
const char* const FAIL = "fail";
const char* const UNSUPPORTED = "unsupported";
const char* const NO_DEVICE = "no-device";
const char* const LEAK = "leak";
const char* const CRASHED = "crashed";
const char* const TIMEOUT = "timeout";

// Thrown inside a check (never across the plugin boundary: plugins only call set_error).
struct Outcome {
  const char* outcome;
  std::string message;
};

[[noreturn]] void fail(const std::string& message) { throw Outcome{FAIL, message}; }
[[noreturn]] void unsupported(const std::string& message) { throw Outcome{UNSUPPORTED, message}; }

bool g_json = false;
bool g_child = false;
int g_failed = 0;

std::string json_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20)
          out += format("\\u%04x", c);
        else
          out += static_cast<char>(c);
    }
  }
  return out;
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  return s;
}

void emit_begin(const std::string& check, int32_t device) {
  if (g_json && !g_child)
    std::printf("{\"event\":\"begin\",\"check\":\"%s\",\"device\":%d}\n", check.c_str(), device);
  std::fflush(stdout);
}

void emit_result(const std::string& check, int32_t device, const char* outcome,
                 const std::string& message, double seconds) {
  if (!std::strcmp(outcome, FAIL) || !std::strcmp(outcome, LEAK) ||
      !std::strcmp(outcome, CRASHED) || !std::strcmp(outcome, TIMEOUT))
    ++g_failed;
  if (g_child) {  // the parent reads this line (see run_child)
    std::printf("RESULT\t%s\t%.6f\t%s\n", outcome, seconds, one_line(message).c_str());
  } else if (g_json) {
    std::printf(
        "{\"event\":\"result\",\"check\":\"%s\",\"device\":%d,\"outcome\":\"%s\","
        "\"message\":\"%s\",\"seconds\":%.6f}\n",
        check.c_str(), device, outcome, json_escape(message).c_str(), seconds);
  } else {
    std::string upper = outcome;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::printf("%-11s %-28s dev %-2d %s\n", upper.c_str(), check.c_str(), device,
                message.c_str());
  }
  std::fflush(stdout);
}

// ---- the plugin -------------------------------------------------------------------------------

const xhal_plugin_api_t* g_api = nullptr;
xhal_registry_impl g_registry;

// An entry point, or NULL when the plugin leaves it unimplemented or its table is too short.
#define FN(name) \
  (XHAL_FIELD_PRESENT(g_api, xhal_plugin_api_t, name) ? g_api->name : nullptr)

template <typename F>
F need(F fn, const char* name) {
  if (fn == nullptr) unsupported(format("%s is NULL (unimplemented)", name));
  return fn;
}

// Call result: OK or throw fail naming the call, the status and the plugin's message.
void ok(xhal_status_t status, const std::string& what) {
  if (status != XHAL_OK)
    fail(format("%s returned %s: %s", what.c_str(), status_name(status),
                t_error.empty() ? "(no message set through host->set_error)" : t_error.c_str()));
}

// A misuse: the call must fail with a message. Returns "" when it did, else what went wrong.
std::string expect_error(xhal_status_t status, const std::string& what,
                         xhal_status_t wanted = XHAL_OK) {
  if (status == XHAL_OK) return what + " returned XHAL_OK";
  if (wanted != XHAL_OK && status != wanted)
    return format("%s returned %s, expected %s (%s)", what.c_str(), status_name(status),
                  status_name(wanted), t_error.c_str());
  if (t_error.empty())
    return format("%s returned %s without a message (host->set_error was not called)",
                  what.c_str(), status_name(status));
  return "";
}

struct Device {
  int32_t index;
  xhal_device_properties_t props;
  bool async() const { return (props.flags & XHAL_DEVICE_FLAG_ASYNC_STREAMS) != 0; }
};

// Owns what a check creates; tears it down in reverse (synchronising first) however the check
// ends, so that a failed check leaves nothing behind for the next one.
class Scope {
 public:
  explicit Scope(const Device& d) : dev_(d.index) {}
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  ~Scope() {
    for (xhal_stream_t s : streams_)
      if (FN(stream_synchronize)) FN(stream_synchronize)(s);
    for (auto it = buffers_.rbegin(); it != buffers_.rend(); ++it) FN(mem_free)(dev_, *it);
    for (xhal_event_t e : events_)
      if (FN(event_destroy)) FN(event_destroy)(e);
    for (xhal_stream_t s : streams_)
      if (FN(stream_destroy)) FN(stream_destroy)(s);
  }
  void* alloc(uint64_t size, uint64_t alignment = 0) {
    void* p = nullptr;
    t_error.clear();
    ok(need(FN(mem_alloc), "mem_alloc")(dev_, size, alignment, &p),
       format("mem_alloc(%llu bytes, alignment %llu)", static_cast<unsigned long long>(size),
              static_cast<unsigned long long>(alignment)));
    if (p == nullptr && size != 0)
      fail(format("mem_alloc(%llu) returned XHAL_OK and a NULL pointer",
                  static_cast<unsigned long long>(size)));
    if (p != nullptr) buffers_.push_back(p);
    return p;
  }
  void free(void* p) {
    auto it = std::find(buffers_.begin(), buffers_.end(), p);
    if (it != buffers_.end()) buffers_.erase(it);
    t_error.clear();
    ok(FN(mem_free)(dev_, p), "mem_free");
  }
  xhal_stream_t stream() {
    xhal_stream_t s = nullptr;
    t_error.clear();
    ok(need(FN(stream_create), "stream_create")(dev_, &s), "stream_create");
    streams_.push_back(s);
    return s;
  }
  xhal_event_t event(uint32_t flags = 0) {
    xhal_event_t e = nullptr;
    t_error.clear();
    ok(need(FN(event_create), "event_create")(dev_, flags, &e), "event_create");
    events_.push_back(e);
    return e;
  }

 private:
  int32_t dev_;
  std::vector<void*> buffers_;
  std::vector<xhal_stream_t> streams_;
  std::vector<xhal_event_t> events_;
};

void* at(void* p, uint64_t off) { return static_cast<char*>(p) + off; }

void h2d(xhal_stream_t s, void* dst, const void* src, uint64_t n, const char* what = "H2D") {
  t_error.clear();
  ok(need(FN(memcpy_async), "memcpy_async")(s, dst, src, n, XHAL_COPY_HOST_TO_DEVICE),
     format("memcpy_async %s (%llu bytes)", what, static_cast<unsigned long long>(n)));
}
void d2h(xhal_stream_t s, void* dst, const void* src, uint64_t n, const char* what = "D2H") {
  t_error.clear();
  ok(need(FN(memcpy_async), "memcpy_async")(s, dst, src, n, XHAL_COPY_DEVICE_TO_HOST),
     format("memcpy_async %s (%llu bytes)", what, static_cast<unsigned long long>(n)));
}
void d2d(xhal_stream_t s, void* dst, const void* src, uint64_t n, const char* what = "D2D") {
  t_error.clear();
  ok(need(FN(memcpy_async), "memcpy_async")(s, dst, src, n, XHAL_COPY_DEVICE_TO_DEVICE),
     format("memcpy_async %s (%llu bytes)", what, static_cast<unsigned long long>(n)));
}
void memset_d(xhal_stream_t s, void* dst, int value, uint64_t n) {
  t_error.clear();
  ok(need(FN(mem_set_async), "mem_set_async")(s, dst, value, n),
     format("mem_set_async (%llu bytes)", static_cast<unsigned long long>(n)));
}
void sync(xhal_stream_t s) {
  t_error.clear();
  ok(need(FN(stream_synchronize), "stream_synchronize")(s), "stream_synchronize");
}

std::vector<uint8_t> pattern(uint64_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(x >> 24);
  }
  return v;
}

// First differing byte, or -1.
int64_t mismatch(const uint8_t* got, const uint8_t* want, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i)
    if (got[i] != want[i]) return static_cast<int64_t>(i);
  return -1;
}

void verify_bytes(const uint8_t* got, const uint8_t* want, uint64_t n, const std::string& what) {
  const int64_t i = mismatch(got, want, n);
  if (i >= 0)
    fail(format("%s: byte %lld of %llu is 0x%02x, expected 0x%02x", what.c_str(),
                static_cast<long long>(i), static_cast<unsigned long long>(n), got[i], want[i]));
}

// ---- allocation -------------------------------------------------------------------------------

std::string check_alloc_zero(const Device& d) {
  void* p = reinterpret_cast<void*>(0x1);
  t_error.clear();
  ok(need(FN(mem_alloc), "mem_alloc")(d.index, 0, 0, &p), "mem_alloc(0 bytes)");
  if (p != nullptr) fail(format("mem_alloc(0 bytes) returned XHAL_OK but pointer %p, not NULL", p));
  return "0 bytes: XHAL_OK and NULL";
}

std::string check_alloc_free_null(const Device& d) {
  t_error.clear();
  ok(need(FN(mem_free), "mem_free")(d.index, nullptr), "mem_free(NULL)");
  return "mem_free(NULL) is a no-op";
}

std::string check_alloc_odd_sizes(const Device& d) {
  Scope scope(d);
  xhal_stream_t s = scope.stream();
  const uint64_t sizes[] = {1, 3, 4097, (1u << 20) + 7};
  const uint64_t align = d.props.alignment ? d.props.alignment : 1;
  for (uint64_t n : sizes) {
    void* p = scope.alloc(n);
    if (reinterpret_cast<uintptr_t>(p) % align != 0)
      fail(format("mem_alloc(%llu) = %p is not aligned to props.alignment %llu",
                  static_cast<unsigned long long>(n), p, static_cast<unsigned long long>(align)));
    // every byte of the allocation is usable: write all of it, read it back
    std::vector<uint8_t> in = pattern(n, static_cast<uint32_t>(n)), out(n, 0);
    h2d(s, p, in.data(), n);
    d2h(s, out.data(), p, n);
    sync(s);
    verify_bytes(out.data(), in.data(), n, format("%llu-byte allocation round trip",
                                                  static_cast<unsigned long long>(n)));
    scope.free(p);
  }
  return format("sizes 1, 3, 4097, 1 MiB + 7: allocated, aligned to %llu, written and read back",
                static_cast<unsigned long long>(align));
}

std::string check_alloc_alignment(const Device& d) {
  Scope scope(d);
  std::string seen;
  for (uint64_t a : {uint64_t{64}, uint64_t{256}, uint64_t{4096}}) {
    for (uint64_t n : {uint64_t{1}, uint64_t{1000}}) {
      void* p = scope.alloc(n, a);
      const uint64_t want = std::max(a, d.props.alignment);
      if (reinterpret_cast<uintptr_t>(p) % want != 0)
        fail(format("mem_alloc(%llu, alignment %llu) = %p is not aligned to %llu",
                    static_cast<unsigned long long>(n), static_cast<unsigned long long>(a), p,
                    static_cast<unsigned long long>(want)));
    }
  }
  return "alignments 64, 256, 4096 honoured (and props.alignment)";
}

std::string check_alloc_exhaustion(const Device& d) {
  if (d.props.total_memory == 0) fail("props.total_memory is 0");
  // One request well beyond the device's memory; never a fill piece by piece.
  const uint64_t total = d.props.total_memory;
  const uint64_t request = total > UINT64_MAX / 4 ? UINT64_MAX / 2 : total * 4;
  void* p = nullptr;
  t_error.clear();
  const xhal_status_t s = need(FN(mem_alloc), "mem_alloc")(d.index, request, 0, &p);
  if (s == XHAL_OK) {
    FN(mem_free)(d.index, p);
    fail(format("mem_alloc(%llu bytes), 4x props.total_memory (%llu), returned XHAL_OK",
                static_cast<unsigned long long>(request), static_cast<unsigned long long>(total)));
  }
  std::string bad = expect_error(s, "mem_alloc(4x total_memory)", XHAL_ERROR_OUT_OF_MEMORY);
  if (!bad.empty()) fail(bad);
  if (p != nullptr) fail("mem_alloc failed with OUT_OF_MEMORY but left a non-NULL pointer");
  const std::string message = t_error;
  // the device still works
  Scope scope(d);
  xhal_stream_t st = scope.stream();
  void* q = scope.alloc(4096);
  std::vector<uint8_t> in = pattern(4096, 7), out(4096, 0);
  h2d(st, q, in.data(), 4096);
  d2h(st, out.data(), q, 4096);
  sync(st);
  verify_bytes(out.data(), in.data(), 4096, "round trip after the out-of-memory error");
  return format("%llu bytes: XHAL_ERROR_OUT_OF_MEMORY (\"%s\"); the device still works",
                static_cast<unsigned long long>(request), message.c_str());
}

// Risky (run in a child): the plugin may crash on these; that only means it does not detect them.
std::string check_alloc_double_free(const Device& d) {
  void* p = nullptr;
  t_error.clear();
  ok(need(FN(mem_alloc), "mem_alloc")(d.index, 4096, 0, &p), "mem_alloc(4096)");
  ok(FN(mem_free)(d.index, p), "mem_free");
  t_error.clear();
  const xhal_status_t s = FN(mem_free)(d.index, p);
  if (s == XHAL_OK) unsupported("a second mem_free of the same pointer returned XHAL_OK (not detected)");
  std::string bad = expect_error(s, "second mem_free", XHAL_ERROR_INVALID_ARGUMENT);
  if (!bad.empty()) fail(bad);
  return format("second mem_free: %s (\"%s\")", status_name(s), t_error.c_str());
}

std::string check_alloc_foreign_pointer(const Device& d) {
  static char host_bytes[4096];
  t_error.clear();
  const xhal_status_t s = need(FN(mem_free), "mem_free")(d.index, host_bytes + 64);
  if (s == XHAL_OK) unsupported("mem_free of a host (static) address returned XHAL_OK (not detected)");
  std::string bad = expect_error(s, "mem_free(host address)", XHAL_ERROR_INVALID_ARGUMENT);
  if (!bad.empty()) fail(bad);
  return format("mem_free(host address): %s (\"%s\")", status_name(s), t_error.c_str());
}

// ---- copies -----------------------------------------------------------------------------------

std::string check_copy_h2d_d2h(const Device& d) {
  Scope scope(d);
  xhal_stream_t s = scope.stream();
  const uint64_t n = 3 * 4096 + 17;
  void* p = scope.alloc(n);
  std::vector<uint8_t> in = pattern(n, 11), out(n, 0);
  // odd offsets and sizes on both sides, pieces out of order
  h2d(s, at(p, 1001), in.data() + 1001, n - 1001);
  h2d(s, p, in.data(), 1001);
  d2h(s, out.data() + 3, at(p, 3), 4097);
  d2h(s, out.data(), p, 3);
  d2h(s, out.data() + 4100, at(p, 4100), n - 4100);
  sync(s);
  verify_bytes(out.data(), in.data(), n, "host -> device -> host with offsets");
  return format("%llu bytes in odd pieces at offsets 0, 3, 1001, 4100", static_cast<unsigned long long>(n));
}

std::string check_copy_d2d(const Device& d) {
  Scope scope(d);
  xhal_stream_t s = scope.stream();
  const uint64_t n = 8192;
  void* a = scope.alloc(n);
  void* b = scope.alloc(n);
  std::vector<uint8_t> in = pattern(n, 21), fill(n, 0xEE), out(n, 0);
  h2d(s, a, in.data(), n);
  h2d(s, b, fill.data(), n);
  d2d(s, at(b, 17), at(a, 5), 777);     // odd offsets, odd size
  d2d(s, at(b, 4096), at(a, 4096), 1);  // one byte
  d2d(s, at(b, 5000), at(a, 100), 3000);
  d2h(s, out.data(), b, n);
  sync(s);
  std::vector<uint8_t> want = fill;
  std::memcpy(want.data() + 17, in.data() + 5, 777);
  want[4096] = in[4096];
  std::memcpy(want.data() + 5000, in.data() + 100, 3000);
  verify_bytes(out.data(), want.data(), n, "device -> device copies (and the bytes around them)");
  return "777 bytes at +5 -> +17, 1 byte, 3000 bytes at +100 -> +5000; neighbours untouched";
}

std::string check_copy_overlap(const Device& d) {
  Scope scope(d);
  xhal_stream_t s = scope.stream();
  void* a = scope.alloc(4096);
  std::string problems;
  const struct {
    uint64_t dst, src, n;
  } cases[] = {{64, 0, 256}, {0, 64, 256}, {128, 128, 64}};
  for (const auto& c : cases) {
    t_error.clear();
    const xhal_status_t st =
        need(FN(memcpy_async), "memcpy_async")(s, at(a, c.dst), at(a, c.src), c.n,
                                               XHAL_COPY_DEVICE_TO_DEVICE);
    const std::string what = format("D2D +%llu -> +%llu, %llu bytes (overlapping)",
                                    static_cast<unsigned long long>(c.src),
                                    static_cast<unsigned long long>(c.dst),
                                    static_cast<unsigned long long>(c.n));
    std::string bad = expect_error(st, what, XHAL_ERROR_INVALID_ARGUMENT);
    if (!bad.empty()) problems += (problems.empty() ? "" : "; ") + bad;
  }
  sync(s);
  if (!problems.empty()) fail(problems + " (the ABI's memcpy is memcpy, not memmove)");
  // adjacent (touching, not overlapping) ranges are fine
  d2d(s, at(a, 256), a, 256, "D2D of adjacent ranges");
  sync(s);
  return "overlapping device-to-device ranges rejected with XHAL_ERROR_INVALID_ARGUMENT";
}

std::string check_copy_mem_set(const Device& d) {
  need(FN(mem_set_async), "mem_set_async");
  Scope scope(d);
  xhal_stream_t s = scope.stream();
  const uint64_t n = 5000;
  void* a = scope.alloc(n);
  std::vector<uint8_t> in = pattern(n, 31), out(n, 0);
  h2d(s, a, in.data(), n);
  memset_d(s, at(a, 13), 0x5A, 3001);
  memset_d(s, at(a, 4000), 0x100 + 0x07, 1);  // the value is a byte: only its low 8 bits count
  d2h(s, out.data(), a, n);
  sync(s);
  std::vector<uint8_t> want = in;
  std::memset(want.data() + 13, 0x5A, 3001);
  want[4000] = 0x07;
  verify_bytes(out.data(), want.data(), n, "mem_set_async");
  return "3001 bytes at +13 and 1 byte at +4000 set; neighbours untouched";
}

// ---- stream ordering --------------------------------------------------------------------------

std::string check_stream_order_copies(const Device& d) {
  Scope scope(d);
  xhal_stream_t s = scope.stream();
  const uint64_t n = (1u << 20) + 13;
  void* a = scope.alloc(n);
  void* b = scope.alloc(n);
  void* c = scope.alloc(n);
  std::vector<uint8_t> in = pattern(n, 41), in2 = pattern(n, 42), out(n, 0), out2(n, 0);
  // no synchronisation until the end: each step depends on the one before it
  h2d(s, a, in.data(), n);
  d2d(s, b, a, n);
  h2d(s, a, in2.data(), n);  // overwrites a only after b has been copied from it
  if (FN(mem_set_async)) memset_d(s, c, 0x33, n);
  d2d(s, c, b, n / 2);
  d2h(s, out.data(), c, n);
  d2h(s, out2.data(), a, n);
  sync(s);
  std::vector<uint8_t> want(n, FN(mem_set_async) ? 0x33 : 0);
  std::memcpy(want.data(), in.data(), n / 2);
  if (!FN(mem_set_async)) {  // c's second half was never written: compare the first half only
    verify_bytes(out.data(), want.data(), n / 2, "H2D -> D2D -> D2D -> D2H on one stream");
  } else {
    verify_bytes(out.data(), want.data(), n, "H2D -> D2D -> memset -> D2D -> D2H on one stream");
  }
  verify_bytes(out2.data(), in2.data(), n, "a buffer rewritten later on the same stream");
  return format("1 MiB chain of copies%s on one stream, one synchronize: right bytes%s",
                FN(mem_set_async) ? " and a memset" : "",
                d.async() ? " (asynchronous streams)" : "");
}

// float <-> IEEE half, for the exact small values used below.
uint16_t to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const int32_t exp = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  const uint32_t mant = x & 0x7fffffu;
  if ((x & 0x7fffffffu) == 0) return static_cast<uint16_t>(sign);
  if (exp <= 0 || exp >= 31) return static_cast<uint16_t>(sign | 0x7c00u);  // not used here
  return static_cast<uint16_t>(sign | (static_cast<uint32_t>(exp) << 10) | (mant >> 13));
}

float from_half(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0 && mant == 0) {
    x = sign;
  } else if (exp == 0) {  // subnormal
    float f = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -f : f;
  } else if (exp == 31) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

struct Kernel {
  uint32_t op = 0;
  int32_t dtype = 0;
  xhal_kernel_fn_t fn = nullptr;
  const char* op_name = "";
};

Kernel find_kernel(const Device& d) {
  const struct {
    uint32_t op;
    const char* name;
  } ops[] = {{XHAL_OP_ADD, "add"}, {XHAL_OP_MUL, "mul"}, {XHAL_OP_RELU, "relu"}};
  for (int32_t dtype : {XHAL_DTYPE_FLOAT32, XHAL_DTYPE_FLOAT16}) {
    if (!(d.props.dtype_mask & (uint64_t{1} << dtype))) continue;
    for (const auto& op : ops)
      for (const xhal_kernel_def_t& def : g_registry.defs)
        if (def.op_id == op.op && def.num_type_vars >= 1 && def.dtypes[0] == dtype &&
            def.version_min <= 1 && def.version_max >= 1 && def.fn != nullptr)
          return Kernel{op.op, dtype, def.fn, op.name};
  }
  return Kernel{};
}

float apply(const Kernel& k, float x) {
  if (k.op == XHAL_OP_ADD) return x + x;
  if (k.op == XHAL_OP_MUL) return x * x;
  return x > 0 ? x : 0.0f;
}

void launch(const Kernel& k, const Device& d, xhal_stream_t s, void* x, void* y, int64_t* shape) {
  xhal_tensor_t X;
  std::memset(&X, 0, sizeof X);
  X.data = x;
  X.device.device_type = d.props.dlpack_device_type;
  X.device.device_id = d.index;
  X.ndim = 1;
  X.dtype = xhal_dtype_to_dl(k.dtype);
  X.shape = shape;
  xhal_tensor_t Y = X;
  Y.data = y;
  xhal_kernel_context_t ctx;
  std::memset(&ctx, 0, sizeof ctx);
  ctx.struct_size = sizeof ctx;
  ctx.device = d.index;
  ctx.stream = s;
  xhal_status_t st;
  t_error.clear();
  if (k.op == XHAL_OP_ADD) {
    xhal_add_v1_attrs_t attrs;
    xhal_add_v1_attrs_init(&attrs);
    st = reinterpret_cast<xhal_add_v1_kernel_fn>(k.fn)(&ctx, &X, &X, &attrs, &Y);
  } else if (k.op == XHAL_OP_MUL) {
    xhal_mul_v1_attrs_t attrs;
    xhal_mul_v1_attrs_init(&attrs);
    st = reinterpret_cast<xhal_mul_v1_kernel_fn>(k.fn)(&ctx, &X, &X, &attrs, &Y);
  } else {
    xhal_relu_v1_attrs_t attrs;
    xhal_relu_v1_attrs_init(&attrs);
    st = reinterpret_cast<xhal_relu_v1_kernel_fn>(k.fn)(&ctx, &X, &attrs, &Y);
  }
  ok(st, format("%s kernel (%s)", k.op_name, k.dtype == XHAL_DTYPE_FLOAT32 ? "float32" : "float16"));
}

std::string check_stream_order_kernels(const Device& d) {
  const Kernel k = find_kernel(d);
  if (k.fn == nullptr)
    unsupported("no add, mul or relu kernel registered for float32 or float16 on this device");
  Scope scope(d);
  xhal_stream_t s = scope.stream();
  const int64_t n = (1 << 18) + 3;
  const uint64_t esize = static_cast<uint64_t>(xhal_dtype_size(k.dtype));
  const uint64_t bytes = static_cast<uint64_t>(n) * esize;
  // values exact in float16 and bfloat16 whatever the op does to them twice
  static const float values[] = {-2.0f, -1.5f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f, 2.0f};
  std::vector<float> xf(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) xf[static_cast<size_t>(i)] = values[(i * 7 + i / 9) % 9];
  std::vector<uint8_t> host(bytes), out(bytes, 0);
  for (int64_t i = 0; i < n; ++i) {
    if (k.dtype == XHAL_DTYPE_FLOAT32) {
      std::memcpy(host.data() + i * 4, &xf[static_cast<size_t>(i)], 4);
    } else {
      const uint16_t h = to_half(xf[static_cast<size_t>(i)]);
      std::memcpy(host.data() + i * 2, &h, 2);
    }
  }
  void* x = scope.alloc(bytes);
  void* y = scope.alloc(bytes);
  void* z = scope.alloc(bytes);
  void* w = scope.alloc(bytes);
  int64_t shape[1] = {n};
  h2d(s, x, host.data(), bytes);
  launch(k, d, s, x, y, shape);
  d2d(s, z, y, bytes);
  launch(k, d, s, z, w, shape);
  d2h(s, out.data(), w, bytes);
  sync(s);
  for (int64_t i = 0; i < n; ++i) {
    const float want = apply(k, apply(k, xf[static_cast<size_t>(i)]));
    float got;
    if (k.dtype == XHAL_DTYPE_FLOAT32) {
      std::memcpy(&got, out.data() + i * 4, 4);
    } else {
      uint16_t h;
      std::memcpy(&h, out.data() + i * 2, 2);
      got = from_half(h);
    }
    if (!(got == want))
      fail(format("H2D -> %s -> D2D -> %s -> D2H, one synchronize: element %lld is %g, expected "
                  "%g (x = %g)",
                  k.op_name, k.op_name, static_cast<long long>(i), static_cast<double>(got),
                  static_cast<double>(want), static_cast<double>(xf[static_cast<size_t>(i)])));
  }
  return format("H2D -> %s -> D2D -> %s -> D2H (%s, %lld elements), one synchronize: right values",
                k.op_name, k.op_name, k.dtype == XHAL_DTYPE_FLOAT32 ? "float32" : "float16",
                static_cast<long long>(n));
}

// ---- events and synchronisation ---------------------------------------------------------------

std::string check_event_cross_stream(const Device& d) {
  need(FN(event_record), "event_record");
  need(FN(stream_wait_event), "stream_wait_event");
  Scope scope(d);
  xhal_stream_t producer = scope.stream();
  xhal_stream_t consumer = scope.stream();
  xhal_event_t e = scope.event();
  const uint64_t n = (4u << 20) + 5;
  void* a = scope.alloc(n);
  void* b = scope.alloc(n);
  std::vector<uint8_t> in = pattern(n, 51), out(n, 0);
  h2d(producer, a, in.data(), n);
  d2d(producer, b, a, n);
  d2d(producer, a, b, n);
  t_error.clear();
  ok(FN(event_record)(e, producer), "event_record on the producer stream");
  t_error.clear();
  ok(FN(stream_wait_event)(consumer, e), "stream_wait_event on the consumer stream");
  d2h(consumer, out.data(), a, n, "D2H on the consumer stream");
  sync(consumer);  // only the consumer: the event must have ordered it after the producer
  verify_bytes(out.data(), in.data(), n,
               "consumer stream's copy after waiting on the producer's event");
  sync(producer);
  return "producer: H2D, D2D, D2D, record; consumer: wait, D2H; synchronize(consumer): right bytes";
}

std::string check_event_query_synchronize(const Device& d) {
  need(FN(event_record), "event_record");
  auto query = need(FN(event_query), "event_query");
  auto esync = need(FN(event_synchronize), "event_synchronize");
  Scope scope(d);
  xhal_stream_t s = scope.stream();
  xhal_event_t e = scope.event();
  const uint64_t n = 4u << 20;
  void* a = scope.alloc(n);
  void* b = scope.alloc(n);
  std::vector<uint8_t> in = pattern(n, 61), out(n, 0);
  h2d(s, a, in.data(), n);
  d2d(s, b, a, n);
  t_error.clear();
  ok(FN(event_record)(e, s), "event_record");
  d2h(s, out.data(), b, n);
  t_error.clear();
  xhal_status_t q = query(e);
  if (q != XHAL_OK && q != XHAL_ERROR_NOT_READY)
    fail(format("event_query while pending returned %s (%s), expected XHAL_OK or "
                "XHAL_ERROR_NOT_READY", status_name(q), t_error.c_str()));
  const bool was_pending = q == XHAL_ERROR_NOT_READY;
  t_error.clear();
  ok(esync(e), "event_synchronize");
  t_error.clear();
  q = query(e);
  if (q != XHAL_OK)
    fail(format("event_query after event_synchronize returned %s (%s)", status_name(q),
                t_error.c_str()));
  sync(s);
  std::string stream_note;
  if (auto squery = FN(stream_query)) {
    t_error.clear();
    const xhal_status_t sq = squery(s);
    if (sq != XHAL_OK)
      fail(format("stream_query after stream_synchronize returned %s (%s)", status_name(sq),
                  t_error.c_str()));
    stream_note = "; stream_query OK when drained";
  }
  verify_bytes(out.data(), in.data(), n, "copy finished by synchronize");
  return format("event_query %s while pending, OK after event_synchronize%s",
                was_pending ? "NOT_READY" : "OK", stream_note.c_str());
}

std::string check_event_elapsed(const Device& d) {
  need(FN(event_record), "event_record");
  auto elapsed = need(FN(event_elapsed_ms), "event_elapsed_ms");
  auto esync = need(FN(event_synchronize), "event_synchronize");
  Scope scope(d);
  xhal_stream_t s = scope.stream();
  xhal_event_t e0 = scope.event(XHAL_EVENT_FLAG_TIMING);
  xhal_event_t e1 = scope.event(XHAL_EVENT_FLAG_TIMING);
  const uint64_t n = 4u << 20;
  void* a = scope.alloc(n);
  void* b = scope.alloc(n);
  t_error.clear();
  ok(FN(event_record)(e0, s), "event_record (start)");
  for (int i = 0; i < 4; ++i) {
    d2d(s, b, a, n);
    d2d(s, a, b, n);
  }
  t_error.clear();
  ok(FN(event_record)(e1, s), "event_record (end)");
  t_error.clear();
  ok(esync(e1), "event_synchronize (end)");
  float ms = -1.0f;
  t_error.clear();
  ok(elapsed(e0, e1, &ms), "event_elapsed_ms after event_synchronize of the end event");
  if (!(ms >= 0.0f) || !std::isfinite(ms))
    fail(format("event_elapsed_ms gave %g ms, expected a finite value >= 0", static_cast<double>(ms)));
  return format("8 device-to-device copies of 4 MiB took %.3f ms", static_cast<double>(ms));
}

std::string check_device_synchronize(const Device& d) {
  auto dsync = need(FN(device_synchronize), "device_synchronize");
  Scope scope(d);
  xhal_stream_t s1 = scope.stream();
  xhal_stream_t s2 = scope.stream();
  const uint64_t n = 2u << 20;
  void* a = scope.alloc(n);
  void* b = scope.alloc(n);
  std::vector<uint8_t> in1 = pattern(n, 71), in2 = pattern(n, 72), o1(n, 0), o2(n, 0);
  h2d(s1, a, in1.data(), n);
  d2h(s1, o1.data(), a, n);
  h2d(s2, b, in2.data(), n);
  d2h(s2, o2.data(), b, n);
  t_error.clear();
  ok(dsync(d.index), "device_synchronize");
  verify_bytes(o1.data(), in1.data(), n, "stream 1's copies after device_synchronize");
  verify_bytes(o2.data(), in2.data(), n, "stream 2's copies after device_synchronize");
  return "work queued on two streams complete after device_synchronize";
}

std::string check_stream_native_handle(const Device& d) {
  auto native = need(FN(stream_get_native_handle), "stream_get_native_handle");
  Scope scope(d);
  xhal_stream_t s = scope.stream();
  intptr_t handle = -12345;
  t_error.clear();
  ok(native(s, &handle), "stream_get_native_handle");
  return format("native handle 0x%llx", static_cast<unsigned long long>(handle));
}

// ---- error propagation ------------------------------------------------------------------------

struct Probes {
  std::vector<std::string> problems;
  int count = 0;
  void expect(xhal_status_t status, const std::string& what) {
    ++count;
    std::string bad = expect_error(status, what);
    if (!bad.empty()) problems.push_back(bad);
  }
  std::string result(const char* what) {
    if (!problems.empty()) {
      std::string all;
      for (const std::string& p : problems) all += (all.empty() ? "" : "; ") + p;
      fail(all);
    }
    if (count == 0) unsupported(format("no entry point to probe %s with", what));
    return format("%d calls with %s: each failed with a message", count, what);
  }
};

std::string check_error_invalid_device(const Device& d, int32_t device_count) {
  Probes p;
  for (int32_t bad : {device_count, int32_t{-1}}) {
    const std::string dev = format("device %d", bad);
    if (auto fn = FN(device_get_properties)) {
      xhal_device_properties_t props;
      std::memset(&props, 0, sizeof props);
      props.struct_size = sizeof props;
      t_error.clear();
      p.expect(fn(bad, &props), "device_get_properties(" + dev + ")");
    }
    if (auto fn = FN(device_synchronize)) {
      t_error.clear();
      p.expect(fn(bad), "device_synchronize(" + dev + ")");
    }
    if (auto fn = FN(device_memory_usage)) {
      uint64_t f = 0, t = 0;
      t_error.clear();
      p.expect(fn(bad, &f, &t), "device_memory_usage(" + dev + ")");
    }
    if (auto fn = FN(mem_alloc)) {
      void* ptr = nullptr;
      t_error.clear();
      const xhal_status_t st = fn(bad, 256, 0, &ptr);
      if (st == XHAL_OK && ptr) FN(mem_free)(d.index, ptr);
      p.expect(st, "mem_alloc(" + dev + ")");
    }
    if (auto fn = FN(stream_create)) {
      xhal_stream_t s = nullptr;
      t_error.clear();
      const xhal_status_t st = fn(bad, &s);
      if (st == XHAL_OK && s && FN(stream_destroy)) FN(stream_destroy)(s);
      p.expect(st, "stream_create(" + dev + ")");
    }
    if (auto fn = FN(event_create)) {
      xhal_event_t e = nullptr;
      t_error.clear();
      const xhal_status_t st = fn(bad, 0, &e);
      if (st == XHAL_OK && e && FN(event_destroy)) FN(event_destroy)(e);
      p.expect(st, "event_create(" + dev + ")");
    }
  }
  return p.result(format("device indices %d and -1", device_count).c_str());
}

std::string check_error_null_handles(const Device& d) {
  Scope scope(d);
  xhal_stream_t s = scope.stream();
  void* a = scope.alloc(256);
  uint8_t host[256] = {0};
  Probes p;
  const xhal_stream_t null_stream = nullptr;
  const xhal_event_t null_event = nullptr;
  if (auto fn = FN(stream_synchronize)) {
    t_error.clear();
    p.expect(fn(null_stream), "stream_synchronize(NULL)");
  }
  if (auto fn = FN(stream_query)) {
    t_error.clear();
    p.expect(fn(null_stream), "stream_query(NULL)");
  }
  if (auto fn = FN(memcpy_async)) {
    t_error.clear();
    p.expect(fn(null_stream, a, host, 256, XHAL_COPY_HOST_TO_DEVICE), "memcpy_async(NULL stream)");
    t_error.clear();
    p.expect(fn(s, a, host, 256, 99), "memcpy_async(kind 99)");
  }
  if (auto fn = FN(mem_set_async)) {
    t_error.clear();
    p.expect(fn(null_stream, a, 0, 256), "mem_set_async(NULL stream)");
  }
  if (auto fn = FN(stream_wait_event)) {
    t_error.clear();
    p.expect(fn(s, null_event), "stream_wait_event(stream, NULL event)");
  }
  if (auto fn = FN(event_record)) {
    t_error.clear();
    p.expect(fn(null_event, s), "event_record(NULL event, stream)");
  }
  if (auto fn = FN(event_query)) {
    t_error.clear();
    p.expect(fn(null_event), "event_query(NULL)");
  }
  if (auto fn = FN(event_synchronize)) {
    t_error.clear();
    p.expect(fn(null_event), "event_synchronize(NULL)");
  }
  if (auto fn = FN(stream_destroy)) {
    t_error.clear();
    p.expect(fn(null_stream), "stream_destroy(NULL)");
  }
  if (auto fn = FN(event_destroy)) {
    t_error.clear();
    p.expect(fn(null_event), "event_destroy(NULL)");
  }
  if (auto fn = FN(mem_alloc)) {
    t_error.clear();
    p.expect(fn(d.index, 64, 0, nullptr), "mem_alloc(ptr = NULL)");
  }
  sync(s);
  return p.result("NULL handles, a NULL out-pointer and an unknown copy kind");
}

// Risky (run in a child): a destroyed handle may be freed memory to the plugin.
std::string check_error_destroyed_stream(const Device& d) {
  auto destroy = need(FN(stream_destroy), "stream_destroy");
  xhal_stream_t s = nullptr;
  t_error.clear();
  ok(need(FN(stream_create), "stream_create")(d.index, &s), "stream_create");
  t_error.clear();
  ok(destroy(s), "stream_destroy");
  Probes p;
  t_error.clear();
  p.expect(FN(stream_synchronize)(s), "stream_synchronize(destroyed stream)");
  if (auto fn = FN(stream_query)) {
    t_error.clear();
    p.expect(fn(s), "stream_query(destroyed stream)");
  }
  uint8_t host[64] = {0};
  void* a = nullptr;
  t_error.clear();
  ok(FN(mem_alloc)(d.index, 64, 0, &a), "mem_alloc(64)");
  t_error.clear();
  p.expect(FN(memcpy_async)(s, a, host, 64, XHAL_COPY_HOST_TO_DEVICE),
           "memcpy_async(destroyed stream)");
  FN(mem_free)(d.index, a);
  return p.result("a destroyed stream");
}

std::string check_error_destroyed_event(const Device& d) {
  auto destroy = need(FN(event_destroy), "event_destroy");
  xhal_event_t e = nullptr;
  t_error.clear();
  ok(need(FN(event_create), "event_create")(d.index, 0, &e), "event_create");
  t_error.clear();
  ok(destroy(e), "event_destroy");
  Probes p;
  if (auto fn = FN(event_query)) {
    t_error.clear();
    p.expect(fn(e), "event_query(destroyed event)");
  }
  if (auto fn = FN(event_synchronize)) {
    t_error.clear();
    p.expect(fn(e), "event_synchronize(destroyed event)");
  }
  return p.result("a destroyed event");
}

// ---- memory usage, concurrency and leaks ------------------------------------------------------

uint64_t free_bytes(const Device& d) {
  auto usage = need(FN(device_memory_usage), "device_memory_usage");
  if (auto dsync = FN(device_synchronize)) {
    t_error.clear();
    ok(dsync(d.index), "device_synchronize");
  }
  uint64_t free_b = 0, total = 0;
  t_error.clear();
  ok(usage(d.index, &free_b, &total), "device_memory_usage");
  return free_b;
}

std::string mib(int64_t bytes) {
  return format("%.2f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

// Runs `cycle` and watches the device's free memory: a drop after the first cycle may be a
// cache (a caching allocator reports what it keeps as used); a drop in every later cycle is a
// leak, confirmed by two more cycles so that another process's allocations on a shared device
// (the CPU's free memory is the machine's) cannot fake one.
std::string leak_cycles(const Device& d, const std::function<void()>& cycle, int64_t tolerance,
                        const std::string& what) {
  std::vector<int64_t> free_after;
  free_after.push_back(static_cast<int64_t>(free_bytes(d)));
  auto step = [&] {
    try {
      cycle();
    } catch (const Outcome& o) {
      // Out of memory in a later cycle of work that gave everything back: that is the leak.
      if (free_after.size() > 1 && o.message.find("XHAL_ERROR_OUT_OF_MEMORY") != std::string::npos)
        throw Outcome{LEAK, format("cycle %zu of %s ran out of memory although every cycle freed "
                                   "what it allocated (free memory %s at the start, %s after "
                                   "the last cycle): %s",
                                   free_after.size(), what.c_str(),
                                   mib(free_after.front()).c_str(),
                                   mib(free_after.back()).c_str(), o.message.c_str())};
      throw;
    }
    free_after.push_back(static_cast<int64_t>(free_bytes(d)));
  };
  auto drop = [&](size_t i) { return free_after[i - 1] - free_after[i]; };
  for (int i = 0; i < 3; ++i) step();
  bool growing = drop(2) > tolerance && drop(3) > tolerance;
  if (growing) {
    step();
    step();
    growing = drop(4) > tolerance && drop(5) > tolerance;
  }
  std::string drops;
  for (size_t i = 1; i < free_after.size(); ++i)
    drops += (i > 1 ? ", " : "") + mib(drop(i));
  if (growing)
    throw Outcome{LEAK, format("free device memory fell in every cycle of %s: by %s (tolerance "
                               "%s per cycle); baseline %s free, now %s",
                               what.c_str(), drops.c_str(), mib(tolerance).c_str(),
                               mib(free_after.front()).c_str(), mib(free_after.back()).c_str())};
  std::string note = drop(1) > tolerance
                         ? format(" (%s held after the first cycle and stable after it: a cache)",
                                  mib(drop(1)).c_str())
                         : "";
  return format("%s: free memory change per cycle %s (tolerance %s)%s", what.c_str(),
                drops.c_str(), mib(tolerance).c_str(), note.c_str());
}

uint64_t leak_chunk(const Device& d) {
  const uint64_t by_total = d.props.total_memory / 32;
  return std::max<uint64_t>(4096, std::min<uint64_t>(64u << 20, by_total));
}

std::string check_leak_alloc_free(const Device& d) {
  need(FN(device_memory_usage), "device_memory_usage");
  const uint64_t chunk = leak_chunk(d);
  xhal_stream_t s = nullptr;
  t_error.clear();
  ok(need(FN(stream_create), "stream_create")(d.index, &s), "stream_create");
  std::vector<uint8_t> host(FN(mem_set_async) ? 0 : chunk, 0x11);
  auto cycle = [&] {
    std::vector<void*> ptrs;
    for (int i = 0; i < 4; ++i) {
      void* p = nullptr;
      t_error.clear();
      ok(FN(mem_alloc)(d.index, chunk, 0, &p), "mem_alloc");
      ptrs.push_back(p);
      // touch it, so that memory mapped lazily is really in use
      if (FN(mem_set_async))
        memset_d(s, p, 0x11, chunk);
      else
        h2d(s, p, host.data(), chunk);
    }
    sync(s);
    for (void* p : ptrs) {
      t_error.clear();
      ok(FN(mem_free)(d.index, p), "mem_free");
    }
  };
  std::string msg;
  try {
    msg = leak_cycles(d, cycle, static_cast<int64_t>(chunk),
                      format("4 x mem_alloc/mem_free of %s", mib(static_cast<int64_t>(chunk)).c_str()));
  } catch (...) {
    if (FN(stream_destroy)) FN(stream_destroy)(s);
    throw;
  }
  if (FN(stream_destroy)) FN(stream_destroy)(s);
  return msg;
}

std::string check_leak_streams_events(const Device& d) {
  need(FN(device_memory_usage), "device_memory_usage");
  need(FN(stream_destroy), "stream_destroy");
  const bool events = FN(event_create) && FN(event_destroy);
  auto cycle = [&] {
    for (int i = 0; i < 32; ++i) {
      xhal_stream_t s = nullptr;
      t_error.clear();
      ok(FN(stream_create)(d.index, &s), "stream_create");
      xhal_event_t e = nullptr;
      if (events) {
        t_error.clear();
        ok(FN(event_create)(d.index, XHAL_EVENT_FLAG_TIMING, &e), "event_create");
        if (FN(event_record)) {
          t_error.clear();
          ok(FN(event_record)(e, s), "event_record");
        }
      }
      sync(s);
      if (events) {
        t_error.clear();
        ok(FN(event_destroy)(e), "event_destroy");
      }
      t_error.clear();
      ok(FN(stream_destroy)(s), "stream_destroy");
    }
  };
  return leak_cycles(d, cycle, 4 << 20,
                     events ? "32 stream and event create/record/destroy" : "32 stream create/destroy");
}

std::string check_concurrency(const Device& d) {
  need(FN(mem_alloc), "mem_alloc");
  const int threads = 4, iterations = 64;
  std::mutex mu;
  std::vector<std::string> errors;
  auto workload = [&] {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        std::mt19937 rng(static_cast<uint32_t>(1234 + t));
        xhal_stream_t s = nullptr;
        try {
          t_error.clear();
          ok(FN(stream_create)(d.index, &s), "stream_create");
          for (int i = 0; i < iterations; ++i) {
            const uint64_t n = 1 + rng() % 65536;
            void *a = nullptr, *b = nullptr;
            t_error.clear();
            ok(FN(mem_alloc)(d.index, n, 0, &a), "mem_alloc");
            t_error.clear();
            ok(FN(mem_alloc)(d.index, n, 0, &b), "mem_alloc");
            std::vector<uint8_t> in = pattern(n, static_cast<uint32_t>(t * 1000 + i)), out(n, 0);
            h2d(s, a, in.data(), n);
            d2d(s, b, a, n);
            d2h(s, out.data(), b, n);
            sync(s);
            const int64_t bad = mismatch(out.data(), in.data(), n);
            t_error.clear();
            ok(FN(mem_free)(d.index, a), "mem_free");
            t_error.clear();
            ok(FN(mem_free)(d.index, b), "mem_free");
            if (bad >= 0)
              fail(format("thread %d, iteration %d: byte %lld of %llu wrong after H2D/D2D/D2H", t,
                          i, static_cast<long long>(bad), static_cast<unsigned long long>(n)));
          }
        } catch (const Outcome& o) {
          std::lock_guard<std::mutex> lock(mu);
          errors.push_back(o.message);
        }
        if (s != nullptr && FN(stream_destroy)) FN(stream_destroy)(s);
      });
    }
    for (auto& th : pool) th.join();
    if (!errors.empty())
      fail(format("%zu of %d threads failed; first: %s", errors.size(), threads,
                  errors.front().c_str()));
  };
  const std::string what =
      format("%d threads x %d alloc/H2D/D2D/D2H/free of up to 64 KiB", threads, iterations);
  if (!FN(device_memory_usage)) {
    workload();
    return what + ": no errors (device_memory_usage is NULL: memory not checked)";
  }
  return leak_cycles(d, workload, 4 << 20, what) + "; no errors";
}

// ---- the device and the plugin ----------------------------------------------------------------

std::string check_device_properties(const Device& d) {
  const xhal_device_properties_t& p = d.props;
  if (p.name[0] == '\0') fail("props.name is empty");
  if (p.alignment == 0 || (p.alignment & (p.alignment - 1)) != 0)
    fail(format("props.alignment %llu is not a power of two",
                static_cast<unsigned long long>(p.alignment)));
  if (p.total_memory == 0) fail("props.total_memory is 0");
  if (p.dtype_mask == 0) fail("props.dtype_mask lists no dtype");
  return format("%s (%s): %s of memory, alignment %llu, flags 0x%x", p.name, p.vendor,
                mib(static_cast<int64_t>(std::min<uint64_t>(p.total_memory, INT64_MAX))).c_str(),
                static_cast<unsigned long long>(p.alignment), p.flags);
}

constexpr size_t kTable10Size =
    offsetof(xhal_plugin_api_t, register_kernels) + sizeof(xhal_kernel_fn_t);

// ---- driver -----------------------------------------------------------------------------------

struct Check {
  const char* name;
  std::function<std::string(const Device&, int32_t)> run;
  bool child;           // run in a child process of its own
  const char* on_crash;  // the outcome when that child dies
};

std::vector<Check> device_checks() {
  auto d1 = [](std::string (*f)(const Device&)) {
    return [f](const Device& d, int32_t) { return f(d); };
  };
  return {
      {"device.properties", d1(check_device_properties), false, CRASHED},
      {"alloc.zero", d1(check_alloc_zero), false, CRASHED},
      {"alloc.free_null", d1(check_alloc_free_null), false, CRASHED},
      {"alloc.odd_sizes", d1(check_alloc_odd_sizes), false, CRASHED},
      {"alloc.alignment", d1(check_alloc_alignment), false, CRASHED},
      {"copy.h2d_d2h", d1(check_copy_h2d_d2h), false, CRASHED},
      {"copy.d2d", d1(check_copy_d2d), false, CRASHED},
      {"copy.overlap", d1(check_copy_overlap), false, CRASHED},
      {"copy.mem_set", d1(check_copy_mem_set), false, CRASHED},
      {"stream.order_copies", d1(check_stream_order_copies), false, CRASHED},
      {"stream.order_kernels", d1(check_stream_order_kernels), false, CRASHED},
      {"event.cross_stream", d1(check_event_cross_stream), false, CRASHED},
      {"event.query_synchronize", d1(check_event_query_synchronize), false, CRASHED},
      {"event.elapsed_time", d1(check_event_elapsed), false, CRASHED},
      {"device.synchronize", d1(check_device_synchronize), false, CRASHED},
      {"stream.native_handle", d1(check_stream_native_handle), false, CRASHED},
      {"error.invalid_device",
       [](const Device& d, int32_t count) { return check_error_invalid_device(d, count); }, false,
       CRASHED},
      {"error.null_handles", d1(check_error_null_handles), false, CRASHED},
      {"concurrency.alloc_free", d1(check_concurrency), false, CRASHED},
      {"leak.alloc_free", d1(check_leak_alloc_free), false, CRASHED},
      {"leak.streams_events", d1(check_leak_streams_events), false, CRASHED},
      {"alloc.exhaustion", d1(check_alloc_exhaustion), false, CRASHED},
      // last, each in a child process: these may take the plugin down
      {"error.destroyed_stream", d1(check_error_destroyed_stream), true, CRASHED},
      {"error.destroyed_event", d1(check_error_destroyed_event), true, CRASHED},
      {"alloc.double_free", d1(check_alloc_double_free), true, UNSUPPORTED},
      {"alloc.foreign_pointer", d1(check_alloc_foreign_pointer), true, UNSUPPORTED},
  };
}

// Host table variants for ABI negotiation, each checked in a child process.
const char* const kHostVariants[] = {
    "abi.host_larger_table",
    "abi.host_newer_minor",
#if XHAL_ABI_MINOR > 0
    "abi.host_older_minor",
#endif
};

struct Options {
  bool json = false;
  bool list = false;
  int32_t device = -1;  // -1: every device
  std::vector<std::string> only;
  std::vector<std::string> skip;  // "name@device"
  double child_timeout = 120.0;
  std::string plugin;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string g_self;  // this program, for the children

std::string signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    default: return format("signal %d", sig);
  }
}

// Runs this program again for one check; reports what it printed, or how it died.
void run_child(const Options& opt, const std::string& check, int32_t device, const char* on_crash) {
  emit_begin(check, device);
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  int fds[2];
  if (pipe(fds) != 0) {
    emit_result(check, device, FAIL, "cannot create a pipe for the child process", 0);
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<std::string> args = {g_self,   "--child", "--device", std::to_string(device),
                                   "--only", check,     opt.plugin};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(&a[0]);
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, g_self.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    emit_result(check, device, FAIL, format("cannot start %s: %s", g_self.c_str(), std::strerror(rc)),
                0);
    return;
  }
  std::string out;
  bool timed_out = false;
  char buf[4096];
  for (;;) {
    const double left = opt.child_timeout - seconds();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    const int r = poll(&pfd, 1, static_cast<int>(std::min(left, 1.0) * 1000) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    emit_result(check, device, TIMEOUT,
                format("the child process ran longer than %g s and was killed", opt.child_timeout),
                seconds());
    return;
  }
  const size_t at_result = out.rfind("RESULT\t");
  if (at_result != std::string::npos) {
    std::string line = out.substr(at_result + 7);
    line = line.substr(0, line.find('\n'));
    const size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
    const std::string outcome = line.substr(0, t1);
    const std::string message = t2 == std::string::npos ? "" : line.substr(t2 + 1);
    static const char* const known[] = {PASS, FAIL, UNSUPPORTED, NO_DEVICE, LEAK};
    for (const char* k : known)
      if (outcome == k) {
        emit_result(check, device, k, message, seconds());
        return;
      }
  }
  std::string how = WIFSIGNALED(status)
                        ? "killed by " + signal_name(WTERMSIG(status))
                        : format("exited with status %d", WEXITSTATUS(status));
  const std::string what = on_crash == UNSUPPORTED
                               ? "not detected: the plugin took the process down (" + how + ")"
                               : "the plugin took the process down (" + how + ")";
  emit_result(check, device, on_crash, what, seconds());
}

void run_check(const Check& c, const Device& d, int32_t count) {
  emit_begin(c.name, d.index);
  const auto start = std::chrono::steady_clock::now();
  const char* outcome = PASS;
  std::string message;
  try {
    message = c.run(d, count);
  } catch (const Outcome& o) {
    outcome = o.outcome;
    message = o.message;
  } catch (const std::exception& e) {
    outcome = FAIL;
    message = std::string("checker error: ") + e.what();
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  emit_result(c.name, d.index, outcome, message, secs);
}

// Loads the plugin with `host`; the api, or NULL after printing why.
const xhal_plugin_api_t* load(const std::string& path, const xhal_host_api_t* host,
                              std::string* why) {
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    *why = format("dlopen: %s", dlerror());
    return nullptr;
  }
  void* sym = dlsym(lib, XHAL_PLUGIN_ENTRY_SYMBOL);
  if (sym == nullptr) {
    *why = format("%s does not export %s", path.c_str(), XHAL_PLUGIN_ENTRY_SYMBOL);
    return nullptr;
  }
  xhal_get_plugin_api_fn entry;
  std::memcpy(&entry, &sym, sizeof entry);
  t_error.clear();
  const xhal_plugin_api_t* api = entry(host);
  if (api == nullptr) {
    *why = format("%s returned NULL: %s", XHAL_PLUGIN_ENTRY_SYMBOL,
                  t_error.empty() ? "(no message)" : t_error.c_str());
    return nullptr;
  }
  return api;
}

void fill_host(const std::string& variant) {
  std::memset(&g_host, 0, sizeof g_host);
  g_host.base.struct_size = sizeof g_host.base;
  g_host.base.abi_major = XHAL_ABI_MAJOR;
  g_host.base.abi_minor = XHAL_ABI_MINOR;
  g_host.base.set_error = host_set_error;
  g_host.base.log = host_log;
  g_host.base.register_kernel = host_register_kernel;
  if (variant == "abi.host_larger_table") {
    g_host.base.struct_size = sizeof g_host;  // the extra fields are zero
  } else if (variant == "abi.host_newer_minor") {
    g_host.base.struct_size = sizeof g_host;
    g_host.base.abi_minor = XHAL_ABI_MINOR + 1;
  } else if (variant == "abi.host_older_minor") {
    g_host.base.abi_minor = XHAL_ABI_MINOR > 0 ? XHAL_ABI_MINOR - 1 : 0;
  }
}

// In a child: the plugin was loaded with another host table. It must work through it: devices,
// memory, a copy, and its errors reach this table's set_error.
std::string check_host_variant(const std::string& variant, int32_t count) {
  std::string note = format("host table %zu bytes, ABI %u.%u", g_host.base.struct_size,
                            g_host.base.abi_major, g_host.base.abi_minor);
  if (count == 0) return note + ": loaded and initialised (no device to exercise)";
  Device d{0, {}};
  d.props.struct_size = sizeof d.props;
  Scope scope(d);
  xhal_stream_t s = scope.stream();
  void* p = scope.alloc(4096);
  std::vector<uint8_t> in = pattern(4096, 3), out(4096, 0);
  h2d(s, p, in.data(), 4096);
  d2h(s, out.data(), p, 4096);
  sync(s);
  verify_bytes(out.data(), in.data(), 4096, "round trip");
  void* q = nullptr;
  t_error.clear();
  std::string bad = expect_error(FN(mem_alloc)(count, 64, 0, &q), "mem_alloc(no such device)");
  if (!bad.empty()) fail(bad);
  (void)variant;
  return note + ": initialised, memory and copies work, errors reach its set_error";
}

std::string check_plugin_table(int32_t count) {
  const xhal_plugin_api_t* api = g_api;
  std::string what = format("plugin ABI %u.%u, table %zu bytes (host ABI %d.%d, 1.0 table %zu "
                            "bytes), device type \"%s\", version \"%s\", %d device(s)",
                            api->abi_major, api->abi_minor, api->struct_size, XHAL_ABI_MAJOR,
                            XHAL_ABI_MINOR, kTable10Size,
                            api->device_type ? api->device_type : "(NULL)",
                            api->plugin_version ? api->plugin_version : "(NULL)", count);
  if (api->abi_major != XHAL_ABI_MAJOR) fail(what + ": ABI major differs");
  if (api->struct_size < kTable10Size) fail(what + ": table shorter than ABI 1.0's");
  if (api->device_type == nullptr || api->device_type[0] == '\0')
    fail(what + ": device_type is empty");
  return what;
}

void plugin_result(const char* check, const std::function<std::string()>& body) {
  emit_begin(check, -1);
  const auto start = std::chrono::steady_clock::now();
  const char* outcome = PASS;
  std::string message;
  try {
    message = body();
  } catch (const Outcome& o) {
    outcome = o.outcome;
    message = o.message;
  }
  emit_result(check, -1, outcome, message,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--json] [--device N] [--only NAME,...] [--skip NAME@DEV,...] "
               "[--child-timeout SECONDS] [--list] PLUGIN.so\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: %s needs a value\n", argv[0], a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--json") {
      opt.json = true;
    } else if (a == "--child") {
      g_child = true;
    } else if (a == "--list") {
      opt.list = true;
    } else if (a == "--device") {
      opt.device = static_cast<int32_t>(std::strtol(value().c_str(), nullptr, 10));
    } else if (a == "--only") {
      opt.only = split(value());
    } else if (a == "--skip") {
      opt.skip = split(value());
    } else if (a == "--child-timeout") {
      opt.child_timeout = std::strtod(value().c_str(), nullptr);
    } else if (a == "-h" || a == "--help") {
      usage(argv[0]);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "%s: unknown option %s\n", argv[0], a.c_str());
      return usage(argv[0]);
    } else if (opt.plugin.empty()) {
      opt.plugin = a;
    } else {
      return usage(argv[0]);
    }
  }
  if (opt.list) {
    std::printf("abi.plugin_table\nplugin.initialize\nplugin.register_kernels\ndevice.count\n");
    for (const Check& c : device_checks()) std::printf("%s\n", c.name);
    for (const char* v : kHostVariants) std::printf("%s\n", v);
    return 0;
  }
  if (opt.plugin.empty()) return usage(argv[0]);
  g_json = opt.json;
  signal(SIGPIPE, SIG_IGN);
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  g_self = len > 0 ? std::string(self, static_cast<size_t>(len)) : std::string(argv[0]);

  std::string variant;
  if (g_child && opt.only.size() == 1 && opt.only[0].rfind("abi.host_", 0) == 0)
    variant = opt.only[0];
  fill_host(variant);
  std::string why;
  g_api = load(opt.plugin, &g_host.base, &why);
  if (g_api == nullptr) {
    if (g_child) {
      emit_result(variant.empty() ? "load" : variant, -1, FAIL, why, 0);
      return 1;
    }
    if (g_json)
      std::printf("{\"event\":\"load_error\",\"message\":\"%s\"}\n", json_escape(why).c_str());
    else
      std::fprintf(stderr, "cannot load %s: %s\n", opt.plugin.c_str(), why.c_str());
    return 2;
  }
  const bool table_ok = g_api->abi_major == XHAL_ABI_MAJOR &&
                        g_api->struct_size >= offsetof(xhal_plugin_api_t, device_count);
  if (!g_child) {
    if (g_json)
      std::printf(
          "{\"event\":\"plugin\",\"path\":\"%s\",\"device_type\":\"%s\",\"plugin_version\":"
          "\"%s\",\"abi_major\":%u,\"abi_minor\":%u,\"struct_size\":%zu,\"host_abi_major\":%d,"
          "\"host_abi_minor\":%d}\n",
          json_escape(opt.plugin).c_str(),
          json_escape(g_api->device_type ? g_api->device_type : "").c_str(),
          json_escape(g_api->plugin_version ? g_api->plugin_version : "").c_str(),
          g_api->abi_major, g_api->abi_minor, g_api->struct_size, XHAL_ABI_MAJOR, XHAL_ABI_MINOR);
    else
      std::printf("plugin %s: %s %s, ABI %u.%u\n", opt.plugin.c_str(),
                  g_api->device_type ? g_api->device_type : "?",
                  g_api->plugin_version ? g_api->plugin_version : "?", g_api->abi_major,
                  g_api->abi_minor);
    std::fflush(stdout);
  }
  if (!table_ok) {
    if (!g_child)
      plugin_result("abi.plugin_table", [&] { return check_plugin_table(0); });
    return 1;
  }
  // Lifecycle, kernels, devices.
  t_error.clear();
  const xhal_status_t init = FN(initialize) ? FN(initialize)() : XHAL_OK;
  if (init != XHAL_OK) {
    const std::string msg = format("initialize returned %s: %s", status_name(init), t_error.c_str());
    if (g_child) {
      emit_result(variant.empty() ? "initialize" : variant, -1, FAIL, msg, 0);
    } else {
      plugin_result("plugin.initialize", [&]() -> std::string { fail(msg); });
    }
    return 1;
  }
  int32_t count = 0;
  std::string count_message;
  t_error.clear();
  const xhal_status_t cs = FN(device_count) ? FN(device_count)(&count) : XHAL_ERROR_UNSUPPORTED;
  if (cs != XHAL_OK) count = 0;
  count_message = t_error;
  std::string kernels_message;
  xhal_status_t ks = XHAL_OK;
  if (FN(register_kernels)) {
    t_error.clear();
    ks = FN(register_kernels)(&g_registry);
    kernels_message = t_error;
  }

  if (g_child) {
    if (!variant.empty()) {
      const char* outcome = PASS;
      std::string message;
      try {
        message = check_host_variant(variant, count);
      } catch (const Outcome& o) {
        outcome = o.outcome;
        message = o.message;
      }
      emit_result(variant, -1, outcome, message, 0);
    } else {
      Device d{opt.device < 0 ? 0 : opt.device, {}};
      d.props.struct_size = sizeof d.props;
      if (FN(device_get_properties)) FN(device_get_properties)(d.index, &d.props);
      for (const Check& c : device_checks())
        if (contains(opt.only, c.name)) run_check(c, d, count);
    }
    if (FN(finalize)) FN(finalize)();
    return g_failed == 0 ? 0 : 1;
  }

  auto wanted = [&](const std::string& name, int32_t device) {
    if (!opt.only.empty() && !contains(opt.only, name)) return false;
    return !contains(opt.skip, name + "@" + std::to_string(device));
  };
  if (wanted("abi.plugin_table", -1))
    plugin_result("abi.plugin_table", [&] { return check_plugin_table(count); });
  if (wanted("plugin.initialize", -1))
    plugin_result("plugin.initialize", [&]() -> std::string {
      if (!FN(initialize)) unsupported("initialize is NULL");
      return "initialize returned XHAL_OK";
    });
  if (wanted("plugin.register_kernels", -1))
    plugin_result("plugin.register_kernels", [&]() -> std::string {
      if (!FN(register_kernels)) unsupported("register_kernels is NULL");
      if (ks != XHAL_OK)
        fail(format("register_kernels returned %s: %s", status_name(ks), kernels_message.c_str()));
      return format("%zu kernels registered through the host table", g_registry.defs.size());
    });
  if (wanted("device.count", -1)) {
    emit_begin("device.count", -1);
    if (cs != XHAL_OK)  // a failing device_count is zero devices with the reason (D13)
      emit_result("device.count", -1, NO_DEVICE,
                  format("device_count returned %s: %s", status_name(cs), count_message.c_str()), 0);
    else if (count == 0)
      emit_result("device.count", -1, NO_DEVICE,
                  count_message.empty() ? "the plugin reports 0 devices" : count_message, 0);
    else
      emit_result("device.count", -1, PASS, format("%d device(s)", count), 0);
  }
  std::vector<Device> devices;
  for (int32_t i = 0; i < count; ++i) {
    if (opt.device >= 0 && i != opt.device) continue;
    Device d{i, {}};
    std::memset(&d.props, 0, sizeof d.props);
    d.props.struct_size = sizeof d.props;
    if (FN(device_get_properties)) {
      t_error.clear();
      const xhal_status_t ps = FN(device_get_properties)(i, &d.props);
      if (ps != XHAL_OK) {
        emit_begin("device.properties", i);
        emit_result("device.properties", i, FAIL,
                    format("device_get_properties returned %s: %s", status_name(ps),
                           t_error.c_str()),
                    0);
        continue;
      }
    }
    devices.push_back(d);
  }
  const std::vector<Check> checks = device_checks();
  for (const Device& d : devices)
    for (const Check& c : checks)
      if (!c.child && wanted(c.name, d.index)) run_check(c, d, count);
  for (const Device& d : devices)
    for (const Check& c : checks)
      if (c.child && wanted(c.name, d.index)) run_child(opt, c.name, d.index, c.on_crash);
  for (const char* v : kHostVariants)
    if (wanted(v, -1)) run_child(opt, v, -1, CRASHED);
  if (FN(finalize)) FN(finalize)();
  return g_failed == 0 ? 0 : 1;
}
