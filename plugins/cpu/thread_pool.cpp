#include "thread_pool.h"

#include <algorithm>
#include <atomic>
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

class ThreadPool {
 public:
  explicit ThreadPool(int workers) {
    try {
      threads_.reserve(static_cast<size_t>(workers));
      for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { worker_loop(); });
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
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = fn;
      ctx_ = ctx;
      n_ = n;
      chunks_ = chunks;
      next_.store(0, std::memory_order_relaxed);
      busy_workers_ = workers();
      error_ = nullptr;
      ++generation_;
    }
    work_cv_.notify_all();
    work();
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [this] { return busy_workers_ == 0; });
    if (error_) std::rethrow_exception(error_);
  }

  std::mutex& run_mutex() { return run_mu_; }

 private:
  void stop_and_join() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void worker_loop() {
    t_inside_parallel_region = true;
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      work();
      std::lock_guard<std::mutex> lock(mu_);
      if (--busy_workers_ == 0) done_cv_.notify_one();
    }
  }

  // Claims chunks until none are left. Chunk c covers [c*n/chunks, (c+1)*n/chunks).
  void work() {
    for (;;) {
      int64_t c = next_.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks_) return;
      // n * c cannot overflow: n < 2^62 for any tensor and chunks is at most a few thousand.
      int64_t begin = n_ / chunks_ * c + std::min(c, n_ % chunks_);
      int64_t end = begin + n_ / chunks_ + (c < n_ % chunks_ ? 1 : 0);
      try {
        fn_(ctx_, begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!error_) error_ = std::current_exception();
      }
    }
  }

  std::vector<std::thread> threads_;
  std::mutex run_mu_;  // one job at a time
  std::mutex mu_;      // guards the job fields below
  std::condition_variable work_cv_, done_cv_;
  bool stop_ = false;
  uint64_t generation_ = 0;
  int busy_workers_ = 0;
  detail::RangeFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0, chunks_ = 0;
  std::atomic<int64_t> next_{0};
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
  int64_t chunks = std::min<int64_t>(max_chunks, 2 * static_cast<int64_t>(threads));
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
