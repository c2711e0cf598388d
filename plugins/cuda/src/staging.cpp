#include "staging.h"

#include <cstring>
#include <mutex>
#include <vector>

#include "host.h"

namespace xhal_cuda {
namespace {

constexpr int kMinClassLog2 = 16;  // 64 KiB
constexpr int kMaxClassLog2 = 26;  // 64 MiB == kMaxStagedCopy

struct Block {
  void* ptr;
  int size_class;
};

std::mutex g_mutex;
std::vector<void*> g_free[kMaxClassLog2 + 1];

int size_class(uint64_t size) {
  int c = kMinClassLog2;
  while ((uint64_t{1} << c) < size) ++c;
  return c;
}

xhal_status_t take(uint64_t size, Block* block) {
  block->size_class = size_class(size);
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    std::vector<void*>& list = g_free[block->size_class];
    if (!list.empty()) {
      block->ptr = list.back();
      list.pop_back();
      return XHAL_OK;
    }
  }
  return check_cuda("cudaHostAlloc (staging buffer)",
                    cudaHostAlloc(&block->ptr, uint64_t{1} << block->size_class,
                                  cudaHostAllocPortable));
}

// Blocks stay cached until finalize: their number is bounded by the copies in flight at once,
// and a stream callback (where blocks come back) may not call CUDA to free them anyway.
void give_back(Block block) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_free[block.size_class].push_back(block.ptr);
}

struct HostToDevice {
  Block block;
};

struct DeviceToHost {
  Block block;
  void* dst;
  uint64_t size;
};

void CUDART_CB release_after_upload(void* data) {
  auto* job = static_cast<HostToDevice*>(data);
  give_back(job->block);
  delete job;
}

void CUDART_CB deliver_download(void* data) {
  auto* job = static_cast<DeviceToHost*>(data);
  std::memcpy(job->dst, job->block.ptr, job->size);
  give_back(job->block);
  delete job;
}

}  // namespace

bool is_pinned_host(const void* ptr) {
  cudaPointerAttributes attrs;
  if (cudaPointerGetAttributes(&attrs, ptr) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return attrs.type == cudaMemoryTypeHost;
}

xhal_status_t staged_host_to_device(cudaStream_t stream, void* dst, const void* src,
                                    uint64_t size) {
  Block block;
  XHAL_CUDA_TRY(take(size, &block));
  std::memcpy(block.ptr, src, size);
  auto* job = new HostToDevice{block};
  xhal_status_t st = check_cuda("memcpy_async (host to device)",
                                cudaMemcpyAsync(dst, block.ptr, size, cudaMemcpyHostToDevice,
                                                stream));
  if (st == XHAL_OK)
    st = check_cuda("memcpy_async (staging release)",
                    cudaLaunchHostFunc(stream, release_after_upload, job));
  if (st != XHAL_OK) {
    // Nothing queued will touch the block if the copy was refused; if only the callback was
    // refused, wait for the copy before reusing the block.
    cudaStreamSynchronize(stream);
    cudaGetLastError();
    give_back(block);
    delete job;
  }
  return st;
}

xhal_status_t staged_device_to_host(cudaStream_t stream, void* dst, const void* src,
                                    uint64_t size) {
  Block block;
  XHAL_CUDA_TRY(take(size, &block));
  auto* job = new DeviceToHost{block, dst, size};
  xhal_status_t st = check_cuda("memcpy_async (device to host)",
                                cudaMemcpyAsync(block.ptr, src, size, cudaMemcpyDeviceToHost,
                                                stream));
  if (st == XHAL_OK)
    st = check_cuda("memcpy_async (delivery callback)",
                    cudaLaunchHostFunc(stream, deliver_download, job));
  if (st != XHAL_OK) {
    cudaStreamSynchronize(stream);
    cudaGetLastError();
    give_back(block);
    delete job;
  }
  return st;
}

void release_staging_pool() {
  std::lock_guard<std::mutex> lock(g_mutex);
  for (std::vector<void*>& list : g_free) {
    for (void* p : list) cudaFreeHost(p);
    list.clear();
  }
}

}  // namespace xhal_cuda
