#include "models/gemm.h"

#include "models/layer.h"

#include <Eigen/Core>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace slsim
{

namespace
{

using Eigen::Index;

/// Eigen's blocking sizes with packing buffers we own (Eigen's own product allocates them per
/// call when they exceed its stack limit, and its OpenMP path always does).
class Workspace : public Eigen::internal::level3_blocking<float, float>
{
  public:
    void Prepare(Index m, Index n, Index k)
    {
        m_kc = k;
        m_mc = m;
        m_nc = n;
        Eigen::internal::computeProductBlockingSizes<float, float, 1>(m_kc, m_mc, m_nc, Index{1});
        m_blockA = Reserve(m_a, static_cast<size_t>(m_kc * m_mc));
        m_blockB = Reserve(m_b, static_cast<size_t>(m_kc * m_nc));
    }

  private:
    Buffer m_a;
    Buffer m_b;
};

std::vector<std::unique_ptr<Workspace>>&
Workspaces()
{
    static std::vector<std::unique_ptr<Workspace>> ws;
    return ws;
}

template<int LhsOrder, int RhsOrder>
void
Run(Index m, Index n, Index k, const float* a, Index lda, const float* b, Index ldb, float* c,
    Index ldc, Workspace& ws)
{
    ws.Prepare(m, n, k);
    Eigen::internal::general_matrix_matrix_product<Index, float, LhsOrder, false, float, RhsOrder,
                                                   false, Eigen::ColMajor, 1>::run(m, n, k, a, lda,
                                                                                   b, ldb, c, 1,
                                                                                   ldc, 1.0f, ws,
                                                                                   nullptr);
}

void
Dispatch(bool transA, bool transB, Index m, Index n, Index k, const float* a, Index lda,
         const float* b, Index ldb, float* c, Index ldc, Workspace& ws)
{
    // A stored transposed is a row-major m x k matrix with the same leading dimension
    if (!transA && !transB)
        Run<Eigen::ColMajor, Eigen::ColMajor>(m, n, k, a, lda, b, ldb, c, ldc, ws);
    else if (transA && !transB)
        Run<Eigen::RowMajor, Eigen::ColMajor>(m, n, k, a, lda, b, ldb, c, ldc, ws);
    else if (!transA && transB)
        Run<Eigen::ColMajor, Eigen::RowMajor>(m, n, k, a, lda, b, ldb, c, ldc, ws);
    else
        Run<Eigen::RowMajor, Eigen::RowMajor>(m, n, k, a, lda, b, ldb, c, ldc, ws);
}

// Below this many multiply-adds a GEMM runs on one thread (fork/join would cost more).
constexpr double PARALLEL_MIN_MACS = 1 << 19;

} // namespace

void
PrepareGemmThreads(int threads)
{
    auto& ws = Workspaces();
    while (ws.size() < static_cast<size_t>(std::max(1, threads)))
    {
        ws.push_back(std::make_unique<Workspace>());
    }
}

void
Gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
     const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate)
{
    if (m <= 0 || n <= 0)
    {
        return;
    }
    int parts = 1;
#ifdef _OPENMP
    if (omp_in_parallel())
    {
        const auto slot = static_cast<size_t>(omp_get_thread_num());
        SLSIM_ASSERT_MSG(slot < Workspaces().size(), "Gemm: PrepareGemmThreads not called");
        if (!accumulate)
        {
            for (int64_t j = 0; j < n; ++j)
            {
                std::memset(c + j * ldc, 0, sizeof(float) * static_cast<size_t>(m));
            }
        }
        if (k > 0)
        {
            Dispatch(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, *Workspaces()[slot]);
        }
        return;
    }
    if (static_cast<double>(m) * n * k >= PARALLEL_MIN_MACS)
    {
        parts = std::max(1, omp_get_max_threads());
    }
#endif
    PrepareGemmThreads(parts);
    auto& ws = Workspaces();
    if (!accumulate)
    {
#pragma omp parallel for schedule(static) if (parts > 1)
        for (int64_t j = 0; j < n; ++j)
        {
            std::memset(c + j * ldc, 0, sizeof(float) * static_cast<size_t>(m));
        }
    }
    if (k <= 0)
    {
        return;
    }
    if (parts == 1)
    {
        Dispatch(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, *ws[0]);
        return;
    }
    const bool byRows = m >= n;
    const int64_t extent = byRows ? m : n;
    const int64_t align = byRows ? 24 : 4; // Eigen's register-block sizes (mr = 24, nr = 4)
#pragma omp parallel for schedule(static) num_threads(parts)
    for (int t = 0; t < parts; ++t)
    {
        // split [0, extent) into `parts` ranges on register-block boundaries
        const int64_t blocks = (extent + align - 1) / align;
        const int64_t b0 = std::min(extent, blocks * t / parts * align);
        const int64_t b1 = std::min(extent, blocks * (t + 1) / parts * align);
        if (b1 <= b0)
        {
            continue;
        }
        if (byRows)
        {
            Dispatch(transA, transB, b1 - b0, n, k, transA ? a + b0 * lda : a + b0, lda, b, ldb,
                     c + b0, ldc, *ws[static_cast<size_t>(t)]);
        }
        else
        {
            Dispatch(transA, transB, m, b1 - b0, k, a, lda, transB ? b + b0 : b + b0 * ldb, ldb,
                     c + b0 * ldc, ldc, *ws[static_cast<size_t>(t)]);
        }
    }
}

} // namespace slsim
