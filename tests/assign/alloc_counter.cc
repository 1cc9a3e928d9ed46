#include "alloc_counter.h"

#include <cstdlib>
#include <new>

namespace {
thread_local size_t thread_allocations = 0;

void* CountedAlloc(size_t size) {
  ++thread_allocations;
  if (size == 0) size = 1;
  void* p = std::malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

namespace causeway::assign::testing {
size_t ThreadAllocations() { return thread_allocations; }
}  // namespace causeway::assign::testing

void* operator new(size_t size) { return CountedAlloc(size); }
void* operator new[](size_t size) { return CountedAlloc(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
