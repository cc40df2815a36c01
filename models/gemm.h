// Single-precision GEMM for the layers: Eigen's GEBP blocking and packing (our micro-kernel on
// AVX2 + FMA, Eigen's GEBP kernel elsewhere, the same sums) with workspaces that persist across
// calls (no allocation after the first use of a size), split into a fixed number of tiles by rows
// or columns of the result, run as tasks of the engine's thread pool (models/thread-pool.h). The
// operand every tile reads whole (op(B) for row tiles, op(A) for column tiles) is packed once per
// call, not once per tile; A is packed into Eigen's layout by our own routine (faster than
// Eigen's for leading dimensions of 1024 floats); each element is summed in Eigen's order
// (bit-identical to Eigen's own product on the same tile). The tiling depends only on the sizes,
// so results are the same for any thread count.
#ifndef SLSIM_MODELS_GEMM_H
#define SLSIM_MODELS_GEMM_H

#include <Eigen/Core>
#include <cstdint>
#include <vector>

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

/// A matrix read in place through offset tables: element (i, j) = base[rowOffset[i] +
/// colOffset[j]], rowOffset strictly increasing. The im2col matrix of a (padded) input sample is
/// one (row = output position, column = kernel tap), so a GEMM can pack it straight from the
/// input ("implicit GEMM": no im2col pass, no im2col buffer).
struct GatherMatrix
{
    const float* base;
    const int64_t* rowOffset;
    const int64_t* colOffset;
};

/// C (m x n, col-major, ldc) = op(A) B, or += with accumulate; op(A) as in Gemm, B the k x n
/// gathered matrix. Single-threaded, on the GEMM workspace of PoolTask().
void GemmGatheredRhs(bool transA, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                     const GatherMatrix& b, float* c, int64_t ldc, bool accumulate);

/// C (mc x nc, col-major, ldc >= mc) += A B for an mc x kc block of A packed by Eigen's
/// gemm_pack_lhs (panels of mr rows) and a kc x nc block of B packed by its gemm_pack_rhs (panels
/// of nr columns): the kernel under every product here. On AVX2 + FMA builds our micro-kernel
/// (models/gemm.cc), elsewhere Eigen's gebp_kernel; either way each element is summed in the
/// order of Eigen's gebp_kernel (tested bit for bit against it).
void MultiplyPackedBlocks(const float* blockA, const float* blockB, int64_t mc, int64_t kc,
                          int64_t nc, float* c, int64_t ldc);

/// op(B) (k x n) packed once in the GEMM kernel's panel format, for many products
/// C += op(A) op(B) with different A of the same m x k shape: a convolution multiplies its weights
/// with every sample's im2col matrix and writes each product straight into the sample's NCHW
/// output, so B is packed once per layer call instead of once per sample. Deterministic: the
/// blocking depends on (m, n, k) only.
class PackedRhs
{
  public:
    /// Packs op(B): B itself (k x n, ldb >= k) or, with transB, the transpose of the stored
    /// n x k matrix (ldb >= n); all col-major. m: the rows of the A's to come (sets the blocking).
    void Pack(bool transB, int64_t m, int64_t n, int64_t k, const float* b, int64_t ldb);

    /// C (m x n, col-major, ldc >= m) += op(A) op(B), op(A) m x k as in Gemm. Single-threaded, on
    /// the GEMM workspace of PoolTask() (see PrepareGemmThreads).
    void MultiplyAdd(bool transA, const float* a, int64_t lda, float* c, int64_t ldc) const;
    /// C += A op(B) with A the m x k gathered matrix.
    void MultiplyAdd(const GatherMatrix& a, float* c, int64_t ldc) const;
    /// The same for the first `rows` (<= m) rows of A and C: groups of samples of unequal sizes
    /// share one packing (the blocking stays that of m, so results depend only on the sizes).
    void MultiplyAdd(const GatherMatrix& a, int64_t rows, float* c, int64_t ldc) const;

  private:
    template <class PackA>
    void Run(PackA&& pack, int64_t rows, float* c, int64_t ldc) const;

    int64_t m_m = 0, m_n = 0, m_k = 0;    // the product's sizes
    int64_t m_kc = 0, m_mc = 0, m_nc = 0; // Eigen's blocking for them
    std::vector<float, Eigen::aligned_allocator<float>> m_packed;
};

} // namespace slsim

#endif
