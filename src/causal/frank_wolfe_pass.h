// The inner pass of the simplex Frank-Wolfe solver of synthetic_control.cc (internal to
// the causal core; exposed for its test).
//
// One iteration moves h = Hx towards column i of H, h <- keep h + step H e_i, and needs
// the first argmin of the gradient h - c for the next vertex. MoveAndArgmin does both in
// one pass. Its kernels do the same IEEE operations in the same order per entry (no
// fused multiply-add), so they give the same bits as the plain loop
//   for j: h[j] = keep * h[j] + step * column[j]; if (h[j] - c[j] < min) { min = ...; arg = j; }
// (arg 0 when no entry is below +inf): AVX2 is used where the CPU has it, SSE2 on any
// other x86-64, the plain loop elsewhere.
#pragma once

#include <vector>

namespace causeway::causal::internal {

enum class PassKernel { kPortable, kSse2, kAvx2 };

// The kernels this build and CPU can run, the fastest last.
std::vector<PassKernel> AvailablePassKernels();

// REQUIRES: k >= 1; h, column and c hold k entries; `kernel` is available.
int MoveAndArgmin(double* h, const double* column, const double* c, int k, double keep, double step,
                  PassKernel kernel);
// With the fastest available kernel.
int MoveAndArgmin(double* h, const double* column, const double* c, int k, double keep,
                  double step);

}  // namespace causeway::causal::internal
