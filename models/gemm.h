// Single-precision GEMM for the layers: Eigen's GEBP kernels with workspaces that persist across
// calls (no allocation after the first use of a size), split over OpenMP threads by rows or
// columns of the result (each result element is computed by one thread, so results are
// deterministic for a given size and thread count).
#ifndef SLSIM_MODELS_GEMM_H
#define SLSIM_MODELS_GEMM_H

#include <cstdint>

namespace slsim
{

/// C (m x n) = op(A) op(B), or C += op(A) op(B) with accumulate. All matrices col-major with
/// leading dimensions lda, ldb, ldc. op(A) is m x k: A itself (m x k, lda >= m) or, with transA,
/// the transpose of the stored k x m matrix (lda >= k); likewise op(B) is k x n.
/// Not re-entrant: call from one thread at a time (it forks its own OpenMP threads).
void Gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate);

/// Makes sure `threads` per-thread workspaces exist; call before a parallel region in which each
/// thread calls Gemm (inside a parallel region Gemm runs single-threaded on the caller's
/// workspace, omp_get_thread_num()).
void PrepareGemmThreads(int threads);

} // namespace slsim

#endif
