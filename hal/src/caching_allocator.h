// Per-device caching allocator. Device allocation is slow on real hardware (and may
// synchronise), so freed blocks are kept in size classes and handed out again. Blocks are
// reused only on the device's default stream, whose ordering makes reuse safe without events.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "plugin.h"

namespace xhal {

class CachingAllocator {
 public:
  CachingAllocator(const Plugin& plugin, int32_t device, uint64_t alignment);
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  void* allocate(uint64_t size);  // size 0 -> nullptr; throws Error(OUT_OF_MEMORY, ...)
  void free(void* ptr);           // returns the block to the cache; throws on a foreign pointer
  void empty_cache();             // gives every cached block back to the plugin

  uint64_t allocated_bytes() const;  // in use by tensors
  uint64_t cached_bytes() const;     // held in the cache

  // Size classes: multiples of 512 bytes up to 1 MiB, then multiples of 1 MiB, so a block
  // rarely wastes more than a small fraction of itself.
  static uint64_t round_size(uint64_t size);

 private:
  void release_all_locked();

  const Plugin& plugin_;
  int32_t device_;
  uint64_t alignment_;
  mutable std::mutex mutex_;
  std::unordered_map<void*, uint64_t> live_;        // ptr -> rounded size
  std::map<uint64_t, std::vector<void*>> cached_;   // rounded size -> free blocks
  uint64_t allocated_ = 0;
  uint64_t cached_total_ = 0;
};

}  // namespace xhal
