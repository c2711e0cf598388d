#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "config.h"

namespace xhal_cpu {
namespace {

thread_local bool t_inside_parallel_region = false;

// Back-to-back kernels are the common case (a model runs op after op), and waking a sleeping
// thread costs more than a small kernel: 0.2-0.3 ms on a 2-vCPU Zen 4 VM, where a caller that
// finds its worker asleep finishes the work alone and then still waits for it to wake. So a
// worker that runs out of work polls for the next job for a while before it sleeps, and so does
// the caller waiting for the workers to finish; a caller wakes sleeping workers only if there
// are any. With 100 us, a quarter or more of the calls of a tight loop paid a wake-up there
// (softmax [12,128,128]: 75th percentile 0.19 ms against a 0.05 ms median; a conv at 14x14
// 1.6 ms against 0.9); with 1 ms the 75th percentiles sit next to the medians (0.049, 0.82).
// OpenBLAS spins for about 2^28 cycles, ONNX Runtime's pool tens of milliseconds. A kernel that
// hands its work to OpenBLAS parks the workers first (park_thread_pool), so that they do not
// spin on the cores OpenBLAS's threads need. More threads than cores (a setting) poll briefly:
// there a polling thread takes a core from one with work.
constexpr auto kSpin = std::chrono::milliseconds(1);
constexpr auto kSpinOversubscribed = std::chrono::microseconds(50);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// How long a thread polls before it sleeps.
std::chrono::microseconds spin_time() {
  static const std::chrono::microseconds t = [] {
    const unsigned cores = std::thread::hardware_concurrency();
    return cores != 0 && static_cast<unsigned>(num_threads()) > cores
               ? std::chrono::microseconds(kSpinOversubscribed)
               : std::chrono::microseconds(kSpin);
  }();
  return t;
}

// Polls `done` until it holds or spin_time() has passed; true when it holds.
template <class Done>
bool spin_until(Done&& done) {
  const auto until = std::chrono::steady_clock::now() + spin_time();
  for (int i = 0;; ++i) {
    if (done()) return true;
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return done();
  }
}

class ThreadPool {
 public:
  explicit ThreadPool(int workers) {
    try {
      threads_.reserve(static_cast<size_t>(workers));
      claimed_ = std::vector<PaddedCounter>(static_cast<size_t>(workers) + 1);
      for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { worker_loop(i + 1); });
    } catch (...) {
      stop_and_join();  // a joinable std::thread must never be destroyed
      throw;
    }
  }

  ~ThreadPool() { stop_and_join(); }

  int workers() const { return static_cast<int>(threads_.size()); }

  // Runs chunks 0..chunks-1 of [0, n) on the workers and the calling thread. Caller holds the
  // run lock, so there is one job at a time.
  void run(int64_t n, int64_t chunks, detail::RangeFn fn, void* ctx) {
    fn_ = fn;  // published to the workers by the release increment of generation_ below
    ctx_ = ctx;
    n_ = n;
    chunks_ = chunks;
    for (auto& c : claimed_) c.v.store(0, std::memory_order_relaxed);
    busy_.store(workers(), std::memory_order_relaxed);
    parked_.store(false, std::memory_order_relaxed);
    error_ = nullptr;
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      generation_.fetch_add(1, std::memory_order_release);
      wake = sleepers_ > 0;
    }
    if (wake) work_cv_.notify_all();
    work(0);
    auto finished = [this] { return busy_.load(std::memory_order_acquire) == 0; };
    if (!spin_until(finished)) {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, finished);
    }
    if (error_) std::rethrow_exception(error_);
  }

  std::mutex& run_mutex() { return run_mu_; }

  // Workers waiting for the next job stop polling and sleep (until the next run).
  void park() { parked_.store(true, std::memory_order_relaxed); }

 private:
  void stop_and_join() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true, std::memory_order_release);
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void worker_loop(int id) {
    t_inside_parallel_region = true;
    uint64_t seen = 0;
    auto news = [&] {
      return stop_.load(std::memory_order_acquire) ||
             generation_.load(std::memory_order_acquire) != seen;
    };
    auto news_or_parked = [&] { return news() || parked_.load(std::memory_order_relaxed); };
    for (;;) {
      if (!spin_until(news_or_parked) || !news()) {
        std::unique_lock<std::mutex> lock(mu_);
        ++sleepers_;
        work_cv_.wait(lock, news);
        --sleepers_;
      }
      if (stop_.load(std::memory_order_acquire)) return;
      seen = generation_.load(std::memory_order_acquire);
      work(id);
      if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // The caller may be asleep in done_cv_: notify under the mutex it checks under.
        std::lock_guard<std::mutex> lock(mu_);
        done_cv_.notify_one();
      }
    }
  }

  // Participant `id` (0: the calling thread, i: worker i) owns a contiguous share of the chunks,
  // runs it first and then helps the others with what is left of theirs. So the same part of
  // the data goes to the same thread call after call, and stays in that core's L2 (the next
  // kernel reading this one's output, a benchmark's repeated call): at 2 threads softmax
  // [12,128,128], layer_normalization [512,768] and 1e5-element elementwise ops measured
  // 0.73-0.96x the time of claiming chunks first come, first served. A delayed thread still
  // only holds up the chunk it is running. Chunk c covers [c*n/chunks, (c+1)*n/chunks).
  void work(int id) {
    const int64_t parts = static_cast<int64_t>(claimed_.size());
    for (int64_t k = 0; k < parts; ++k) {
      const int64_t q = (id + k) % parts;
      const int64_t first = chunks_ * q / parts, end = chunks_ * (q + 1) / parts;
      std::atomic<int64_t>& claimed = claimed_[static_cast<size_t>(q)].v;
      for (int64_t c; (c = first + claimed.fetch_add(1, std::memory_order_relaxed)) < end;)
        run_chunk(c);
    }
  }

  void run_chunk(int64_t c) {
    // n * c cannot overflow: n < 2^62 for any tensor and chunks is at most a few thousand.
    const int64_t begin = n_ / chunks_ * c + std::min(c, n_ % chunks_);
    const int64_t end = begin + n_ / chunks_ + (c < n_ % chunks_ ? 1 : 0);
    try {
      fn_(ctx_, begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_) error_ = std::current_exception();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex run_mu_;  // one job at a time
  std::mutex mu_;      // guards sleepers_ and error_; the condition variables' mutex
  std::condition_variable work_cv_, done_cv_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> parked_{false};      // set by park(), cleared by run()
  std::atomic<uint64_t> generation_{0};  // bumped (release) once a job's fields are set
  std::atomic<int> busy_{0};             // workers that have not finished the current job
  int sleepers_ = 0;                     // workers blocked in work_cv_
  detail::RangeFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0, chunks_ = 0;
  // Chunks claimed so far from each participant's share, a cache line each.
  struct alignas(64) PaddedCounter {
    std::atomic<int64_t> v{0};
  };
  std::vector<PaddedCounter> claimed_;
  std::exception_ptr error_;
};

std::mutex g_pool_mu;
std::shared_ptr<ThreadPool> g_pool;

std::shared_ptr<ThreadPool> get_pool() {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  if (!g_pool) g_pool = std::make_shared<ThreadPool>(num_threads() - 1);
  return g_pool;
}

}  // namespace

namespace detail {

void parallel_run(int64_t n, int64_t max_chunks, RangeFn fn, void* ctx) {
  int threads = num_threads();
  if (threads <= 1 || max_chunks <= 1 || t_inside_parallel_region) {
    fn(ctx, 0, n);
    return;
  }
  std::shared_ptr<ThreadPool> pool;
  try {
    pool = get_pool();
  } catch (const std::system_error&) {  // no threads to be had: the work still gets done
    fn(ctx, 0, n);
    return;
  }
  std::unique_lock<std::mutex> lock(pool->run_mutex(), std::try_to_lock);
  if (!lock.owns_lock()) {  // another host thread is using the pool: do our share alone
    fn(ctx, 0, n);
    return;
  }
  // Twice the thread count evens out ranges of uneven cost without much dispatch overhead.
  // Beyond one per thread, a multiple of the thread count: 3 equal chunks on 2 threads take two
  // chunk-times (2/3 of the serial time), 2 chunks one (1/2); add/exp/sigmoid on 1e5 float32
  // elements measured 17-23% faster at 2 threads.
  int64_t chunks = std::min<int64_t>(max_chunks, 2 * static_cast<int64_t>(threads));
  if (chunks > threads) chunks -= chunks % threads;
  t_inside_parallel_region = true;
  try {
    pool->run(n, chunks, fn, ctx);
  } catch (...) {
    t_inside_parallel_region = false;
    throw;
  }
  t_inside_parallel_region = false;
}

}  // namespace detail

void park_thread_pool() {
  std::shared_ptr<ThreadPool> pool;
  {
    std::lock_guard<std::mutex> lock(g_pool_mu);
    pool = g_pool;
  }
  if (pool) pool->park();
}

void shutdown_thread_pool() {
  std::shared_ptr<ThreadPool> pool;
  {
    std::lock_guard<std::mutex> lock(g_pool_mu);
    pool.swap(g_pool);
  }
  // Joins here unless a kernel still holds the pool; that holder then joins when it is done.
  pool.reset();
}

}  // namespace xhal_cpu
