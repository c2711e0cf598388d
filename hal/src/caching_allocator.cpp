#include "caching_allocator.h"

#include "error.h"

namespace xhal {

CachingAllocator::CachingAllocator(const Plugin& plugin, int32_t device, uint64_t alignment)
    : plugin_(plugin), device_(device), alignment_(alignment ? alignment : 64) {}

CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_all_locked();
}

uint64_t CachingAllocator::round_size(uint64_t size) {
  constexpr uint64_t kSmall = 512, kLarge = 1 << 20;
  if (size <= kLarge) return (size + kSmall - 1) / kSmall * kSmall;
  return (size + kLarge - 1) / kLarge * kLarge;
}

void* CachingAllocator::allocate(uint64_t size) {
  if (size == 0) return nullptr;
  const uint64_t rounded = round_size(size);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = cached_.find(rounded);
  if (it != cached_.end() && !it->second.empty()) {
    void* ptr = it->second.back();
    it->second.pop_back();
    cached_total_ -= rounded;
    live_[ptr] = rounded;
    allocated_ += rounded;
    return ptr;
  }
  auto alloc = plugin_.get(&xhal_plugin_api_t::mem_alloc, "mem_alloc");
  void* ptr = nullptr;
  xhal_status_t status = alloc(device_, rounded, alignment_, &ptr);
  if (status == XHAL_ERROR_OUT_OF_MEMORY && cached_total_ > 0) {
    // The cache may be what fills the device: give it back and try once more.
    set_plugin_error(nullptr);
    release_all_locked();
    status = alloc(device_, rounded, alignment_, &ptr);
  }
  check_plugin_status(status, plugin_.device_type() + ":" + std::to_string(device_) +
                                  ": allocating " + std::to_string(size) + " bytes");
  if (!ptr)
    throw Error(XHAL_ERROR_INTERNAL, plugin_.device_type() + ": mem_alloc returned NULL for " +
                                         std::to_string(size) + " bytes");
  live_[ptr] = rounded;
  allocated_ += rounded;
  return ptr;
}

void CachingAllocator::free(void* ptr) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(ptr);
  if (it == live_.end())
    throw Error(XHAL_ERROR_INVALID_ARGUMENT,
                plugin_.device_type() + ": free of a pointer this allocator did not hand out");
  cached_[it->second].push_back(ptr);
  cached_total_ += it->second;
  allocated_ -= it->second;
  live_.erase(it);
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_all_locked();
}

void CachingAllocator::release_all_locked() {
  if (plugin_.has(&xhal_plugin_api_t::device_synchronize))
    plugin_.api().device_synchronize(device_);  // no block may still be in use by queued work
  for (auto& [size, blocks] : cached_)
    for (void* ptr : blocks) plugin_.api().mem_free(device_, ptr);
  cached_.clear();
  cached_total_ = 0;
  set_plugin_error(nullptr);
}

uint64_t CachingAllocator::allocated_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return allocated_;
}

uint64_t CachingAllocator::cached_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cached_total_;
}

}  // namespace xhal
