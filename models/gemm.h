// Single-precision GEMM for the layers: Eigen's GEBP kernels with workspaces that persist across
// calls (no allocation after the first use of a size), split into a fixed number of tiles by rows
// or columns of the result, run as tasks of the engine's thread pool (models/thread-pool.h). The
// tiling depends only on the sizes, so results are the same for any thread count.
#ifndef SLSIM_MODELS_GEMM_H
#define SLSIM_MODELS_GEMM_H

#include <cstdint>

namespace slsim
{

/// C (m x n) = op(A) op(B), or C += op(A) op(B) with accumulate. All matrices col-major with
/// leading dimensions lda, ldb, ldc. op(A) is m x k: A itself (m x k, lda >= m) or, with transA,
/// the transpose of the stored k x m matrix (lda >= k); likewise op(B) is k x n.
/// Not re-entrant: call from one thread at a time, or from inside a pool task (it then runs as
/// one tile on the task's workspace).
void Gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate);

/// Makes sure `threads` workspaces exist. A GEMM uses workspace PoolTask() (its tile, or the
/// task it runs in), so their sizes do not depend on which thread ran what. Call before RunTasks
/// whose tasks call Gemm (Gemm itself prepares its own tiles).
void PrepareGemmThreads(int threads);

} // namespace slsim

#endif
