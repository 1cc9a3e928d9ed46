// Counts heap allocations made by the current thread (operator new is replaced
// for the whole test binary in alloc_counter.cc), so tests can check that the
// hot path does not allocate.
#pragma once

#include <cstddef>

namespace causeway::assign::testing {

// Number of operator new calls made by this thread so far.
size_t ThreadAllocations();

// False in AddressSanitizer builds: ASan owns operator new there, so the
// counter is not installed and allocation checks are skipped (they run in the
// normal build).
bool AllocationCountingEnabled();

}  // namespace causeway::assign::testing
