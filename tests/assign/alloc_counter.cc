#include "alloc_counter.h"

#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)

namespace causeway::assign::testing {
size_t ThreadAllocations() { return 0; }
bool AllocationCountingEnabled() { return false; }
}  // namespace causeway::assign::testing

#else

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
bool AllocationCountingEnabled() { return true; }
}  // namespace causeway::assign::testing

void* operator new(size_t size) { return CountedAlloc(size); }
void* operator new[](size_t size) { return CountedAlloc(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

#endif
