// The GEMM under every layer (models/gemm.h). Eigen's blocking (kc x mc x nc, from fixed cache
// sizes) and packed formats (A in panels of 24 rows, B in panels of 4 columns on AVX2), our own
// loops around them: A packed by PackLhs, the operand shared by a Gemm's tiles packed once, and
// on AVX2 + FMA builds our micro-kernel (MicroKernel: a 24 x 4 tile in the 16 ymm registers,
// prefetching the next C tile and, a part per kernel, the next A panel into L2) in place of
// Eigen's gebp_kernel, which keeps the ragged rows and columns and every other ISA. Each element
// is summed exactly as by Eigen's product (fma over k in order from 0 within a k-block, then
// added to C): bit-identical results, tested against gebp_kernel in tests/models/test-gemm.cc.
#include "models/gemm.h"

#include "models/layer.h"
#include "models/thread-pool.h"

#include <Eigen/Core>
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

// Our micro-kernel needs AVX2 + FMA; AVX-512 builds (Eigen's panels are then 48 rows) and
// others keep Eigen's kernel.
#if defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)
#define SLSIM_GEMM_OWN_KERNEL 1
#include <immintrin.h>
#else
#define SLSIM_GEMM_OWN_KERNEL 0
#endif

namespace slsim
{

namespace
{

using Eigen::Index;

/// Eigen sizes its blocks from the caches it detects, and the blocking decides the order in which
/// a result element's products are summed: fixed sizes (those of the development machine, AMD
/// EPYC Zen 4, as Eigen reports them) make the results the same on every machine with the same
/// vector width.
void
FixCacheSizes()
{
    static const bool fixedCaches = [] {
        Eigen::setCpuCacheSizes(32768, 524288, 268435456);
        return true;
    }();
    (void)fixedCaches;
}

/// Eigen's blocking sizes with packing buffers we own (Eigen's own product allocates them per
/// call when they exceed its stack limit, and its OpenMP path always does).
class Workspace : public Eigen::internal::level3_blocking<float, float>
{
  public:
    void Prepare(Index m, Index n, Index k)
    {
        FixCacheSizes();
        m_kc = k;
        m_mc = m;
        m_nc = n;
        Eigen::internal::computeProductBlockingSizes<float, float, 1>(m_kc, m_mc, m_nc, Index{1});
        m_blockA = Reserve(m_a, static_cast<size_t>(m_kc * m_mc));
        m_blockB = Reserve(m_b, static_cast<size_t>(m_kc * m_nc));
    }

    /// The packing buffer of A, at least n floats (PackedRhs).
    float* Lhs(size_t n)
    {
        return Reserve(m_a, n);
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

/// Eigen's blocking sizes for an m x n x k product (fixed cache sizes, see Workspace::Prepare).
void
Blocking(Index m, Index n, Index k, Index& kc, Index& mc, Index& nc)
{
    FixCacheSizes();
    kc = k;
    mc = m;
    nc = n;
    Eigen::internal::computeProductBlockingSizes<float, float, 1>(kc, mc, nc, Index{1});
}

using Traits = Eigen::internal::gebp_traits<float, float>;
using ResMapper
    = Eigen::internal::blas_data_mapper<float, Index, Eigen::ColMajor, Eigen::Unaligned, 1>;
using Kernel = Eigen::internal::gebp_kernel<float, float, Index, ResMapper, Traits::mr, Traits::nr,
                                            false, false>;

#if SLSIM_GEMM_OWN_KERNEL
static_assert(Traits::mr == 24 && Traits::nr == 4 && Traits::LhsProgress == 8,
              "the micro-kernel reads Eigen's AVX2 panels: 24 rows of A, 4 columns of B");

/// c[0, 24) += (x0, x1, x2)
inline void
AddColumn(float* c, __m256 x0, __m256 x1, __m256 x2)
{
    _mm256_storeu_ps(c, _mm256_add_ps(x0, _mm256_loadu_ps(c)));
    _mm256_storeu_ps(c + 8, _mm256_add_ps(x1, _mm256_loadu_ps(c + 8)));
    _mm256_storeu_ps(c + 16, _mm256_add_ps(x2, _mm256_loadu_ps(c + 16)));
}

/// C (24 x 4, col-major, ldc) += the product of a packed panel of A (24 rows: per k, 24
/// consecutive floats) and one of B (4 columns: per k, 4 consecutive floats), depth kc. Each
/// element is summed as by Eigen's gebp_kernel (its 3pX4 path): one accumulator per element,
/// acc = fma(a_ik, b_kj, acc) for k = 0, 1, ..., kc - 1 starting from 0, then C = acc + C (Eigen's
/// pmadd(acc, alpha = 1, C) is the same single rounding). 12 accumulators, 3 packets of A and one
/// broadcast of B: the 16 ymm registers, as Eigen's and OpenBLAS's Haswell kernels. nextC: the C
/// tile of the next call, prefetched (without it the C update stalls on an L3 read when the C
/// block exceeds L2, e.g. 128 x 512 floats with ldc = 1024).
inline void
MicroKernel(const float* __restrict a, const float* __restrict b, Index kc, float* c, Index ldc,
            const float* nextC)
{
    for (int j = 0; j < 4; ++j)
    {
        _mm_prefetch(reinterpret_cast<const char*>(nextC + j * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(nextC + j * ldc + 23), _MM_HINT_T0);
    }
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c03 = c00;
    __m256 c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00, c23 = c00;
// one k: the three packets of A's column k times the four B values of row k (named registers:
// GCC keeps an array of accumulators in memory)
#define SLSIM_GEMM_COLUMN(K, J, X0, X1, X2)                                                        \
    bj = _mm256_broadcast_ss(b + 4 * (K) + (J));                                                   \
    X0 = _mm256_fmadd_ps(a0, bj, X0);                                                              \
    X1 = _mm256_fmadd_ps(a1, bj, X1);                                                              \
    X2 = _mm256_fmadd_ps(a2, bj, X2)
#define SLSIM_GEMM_STEP(K)                                                                         \
    do                                                                                             \
    {                                                                                              \
        const __m256 a0 = _mm256_loadu_ps(a + 24 * (K));                                           \
        const __m256 a1 = _mm256_loadu_ps(a + 24 * (K) + 8);                                       \
        const __m256 a2 = _mm256_loadu_ps(a + 24 * (K) + 16);                                      \
        __m256 bj;                                                                                 \
        SLSIM_GEMM_COLUMN(K, 0, c00, c10, c20);                                                    \
        SLSIM_GEMM_COLUMN(K, 1, c01, c11, c21);                                                    \
        SLSIM_GEMM_COLUMN(K, 2, c02, c12, c22);                                                    \
        SLSIM_GEMM_COLUMN(K, 3, c03, c13, c23);                                                    \
    } while (false)
    // A is read 16 k ahead (1.5 KiB: three lines per 4 k), in case the panel left L1
    constexpr Index aheadA = 24 * 16;
    Index k = 0;
    for (; k + 4 <= kc; k += 4)
    {
        _mm_prefetch(reinterpret_cast<const char*>(a + aheadA), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(a + aheadA + 16), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(a + aheadA + 32), _MM_HINT_T0);
        SLSIM_GEMM_STEP(0);
        SLSIM_GEMM_STEP(1);
        SLSIM_GEMM_STEP(2);
        SLSIM_GEMM_STEP(3);
        a += 96;
        b += 16;
    }
    for (; k < kc; ++k)
    {
        SLSIM_GEMM_STEP(0);
        a += 24;
        b += 4;
    }
#undef SLSIM_GEMM_STEP
#undef SLSIM_GEMM_COLUMN
    // C = acc + C
    AddColumn(c, c00, c10, c20);
    AddColumn(c + ldc, c01, c11, c21);
    AddColumn(c + 2 * ldc, c02, c12, c22);
    AddColumn(c + 3 * ldc, c03, c13, c23);
}
#endif

template <int Order>
void
PackRhs(float* dst, const float* b, Index ldb, Index k2, Index j2, Index kc, Index nc)
{
    using Mapper = Eigen::internal::const_blas_data_mapper<float, Index, Order>;
    Eigen::internal::gemm_pack_rhs<float, Index, Mapper, Traits::nr, Order> pack;
    pack(dst, Mapper(b, ldb).getSubMapper(k2, j2), kc, nc);
}

template <int Order>
void
EigenPackLhs(float* dst, const float* a, Index lda, Index i2, Index k2, Index kc, Index mc)
{
    using Mapper = Eigen::internal::const_blas_data_mapper<float, Index, Order>;
    Eigen::internal::gemm_pack_lhs<float, Index, Mapper, Traits::mr, Traits::LhsProgress,
                                   typename Traits::LhsPacket4Packing, Order>
        pack;
    pack(dst, Mapper(a, lda).getSubMapper(i2, k2), kc, mc);
}

/// Eigen's packing of the mc x kc block of A at (i2, k2) for the GEBP kernel. A col-major A is
/// packed into exactly Eigen's layout (panels of mr rows, each kc columns of mr floats, then
/// Eigen's own packing of the rows left), but read column by column across all panels of a few
/// columns at a time: Eigen reads one panel's mr floats from each of kc columns lda apart in
/// turn, and when lda is a multiple of 1024 floats all those columns fall in the same L1 sets
/// (its packing took 19 % of a 1024x64x576 product, OpenBLAS's 9 %).
template <int Order>
void
PackLhs(float* dst, const float* a, Index lda, Index i2, Index k2, Index kc, Index mc)
{
    using Packet = typename Traits::LhsPacket4Packing;
    constexpr Index size = Eigen::internal::unpacket_traits<Packet>::size;
    // panels of three packets: builds with FMA (without it, SSE-only builds: Eigen's packing)
    if constexpr (Order == Eigen::ColMajor && Traits::mr == 3 * size)
    {
        constexpr Index mr = Traits::mr;
        constexpr Index columns = 8; // columns read per sweep over the panels
        const Index panels = mc / mr;
        const float* from = a + i2 + k2 * lda;
        for (Index k0 = 0; k0 < kc; k0 += columns)
        {
            const Index k1 = std::min(k0 + columns, kc);
            for (Index p = 0; p < panels; ++p)
            {
                float* to = dst + p * mr * kc;
                for (Index k = k0; k < k1; ++k)
                {
                    const float* col = from + p * mr + k * lda;
                    using Eigen::internal::ploadu;
                    using Eigen::internal::pstore;
                    pstore(to + k * mr, ploadu<Packet>(col));
                    pstore(to + k * mr + size, ploadu<Packet>(col + size));
                    pstore(to + k * mr + 2 * size, ploadu<Packet>(col + 2 * size));
                }
            }
        }
        if (mc > panels * mr)
        {
            EigenPackLhs<Order>(dst + panels * mr * kc, a, lda, i2 + panels * mr, k2, kc,
                                mc - panels * mr);
        }
    }
    else
    {
        EigenPackLhs<Order>(dst, a, lda, i2, k2, kc, mc);
    }
}

/// Eigen's sequential GEMM loop (general_matrix_matrix_product in GeneralMatrixMatrix.h) with
/// the blocking `ws` was prepared with, C (m x n) += the product of the packed blocks that
/// lhs(i2, k2, kc, mc) and rhs(i2, k2, j2, kc, nc) return: every element is summed in the same
/// order as by Eigen's product.
template <class Lhs, class Rhs>
void
RunBlocks(Index m, Index n, Index k, const Workspace& ws, Lhs&& lhs, Rhs&& rhs, float* c, Index ldc)
{
    const Index kcMax = ws.kc();
    const Index mcMax = std::min<Index>(m, ws.mc());
    const Index ncMax = std::min<Index>(n, ws.nc());
    for (Index i2 = 0; i2 < m; i2 += mcMax)
    {
        const Index mc = std::min<Index>(i2 + mcMax, m) - i2;
        for (Index k2 = 0; k2 < k; k2 += kcMax)
        {
            const Index kc = std::min<Index>(k2 + kcMax, k) - k2;
            const float* blockA = lhs(i2, k2, kc, mc);
            for (Index j2 = 0; j2 < n; j2 += ncMax)
            {
                const Index nc = std::min<Index>(j2 + ncMax, n) - j2;
                MultiplyPackedBlocks(blockA, rhs(i2, k2, j2, kc, nc), mc, kc, nc, c + i2 + j2 * ldc,
                                     ldc);
            }
        }
    }
}

/// C (m x n) += op(A) op(B) as one tile, as Eigen's own product does it (RunBlocks; Eigen packs
/// B once for all row blocks under the same condition) but with our packing of A (PackLhs).
void
RunTile(bool transA, bool transB, Index m, Index n, Index k, const float* a, Index lda,
        const float* b, Index ldb, float* c, Index ldc, Workspace& ws)
{
    ws.Prepare(m, n, k);
    const bool packRhsOnce = std::min<Index>(m, ws.mc()) != m && ws.kc() == k && ws.nc() >= n;
    RunBlocks(
        m, n, k, ws,
        [&](Index i2, Index k2, Index kc, Index mc) {
            (transA ? PackLhs<Eigen::RowMajor> : PackLhs<Eigen::ColMajor>)(ws.blockA(), a, lda, i2,
                                                                           k2, kc, mc);
            return ws.blockA();
        },
        [&](Index i2, Index k2, Index j2, Index kc, Index nc) {
            if (!packRhsOnce || i2 == 0)
            {
                (transB ? PackRhs<Eigen::RowMajor> : PackRhs<Eigen::ColMajor>)(ws.blockB(), b, ldb,
                                                                               k2, j2, kc, nc);
            }
            return ws.blockB();
        },
        c, ldc);
}

/// Eigen's data-mapper interface over a GatherMatrix (what gemm_pack_lhs / gemm_pack_rhs read):
/// a packet of rows that are adjacent in memory is one unaligned load, others are gathered.
class GatherMapper
{
  public:
    class LinearMapper
    {
      public:
        LinearMapper(const GatherMapper& m, Index i, Index j)
            : m_m(m),
              m_i(i),
              m_j(j)
        {
        }

        template <typename PacketT>
        PacketT loadPacket(Index k) const
        {
            return m_m.loadPacket<PacketT>(m_i + k, m_j);
        }

        float operator()(Index k) const
        {
            return m_m(m_i + k, m_j);
        }

      private:
        const GatherMapper& m_m;
        Index m_i;
        Index m_j;
    };

    GatherMapper(const GatherMatrix& g, Index i0, Index j0)
        : m_g(g),
          m_i0(i0),
          m_j0(j0)
    {
    }

    template <typename PacketT>
    PacketT loadPacket(Index i, Index j) const
    {
        constexpr int n = Eigen::internal::unpacket_traits<PacketT>::size;
        const int64_t* r = m_g.rowOffset + m_i0 + i;
        const float* col = m_g.base + m_g.colOffset[m_j0 + j];
        if (r[n - 1] - r[0] == n - 1) // strictly increasing: the n rows are adjacent
        {
            return Eigen::internal::ploadu<PacketT>(col + r[0]);
        }
        alignas(64) float v[n];
        for (int t = 0; t < n; ++t)
        {
            v[t] = col[r[t]];
        }
        return Eigen::internal::pload<PacketT>(v);
    }

    float operator()(Index i, Index j) const
    {
        return m_g.base[m_g.rowOffset[m_i0 + i] + m_g.colOffset[m_j0 + j]];
    }

    GatherMapper getSubMapper(Index i, Index j) const
    {
        return GatherMapper(m_g, m_i0 + i, m_j0 + j);
    }

    LinearMapper getLinearMapper(Index i, Index j) const
    {
        return LinearMapper(*this, i, j);
    }

  private:
    const GatherMatrix& m_g;
    Index m_i0;
    Index m_j0;
};

/// The operand that every tile of one Gemm reads whole (op(B) when split by rows, op(A) when split
/// by columns), packed once per call: each tile's own product would pack all of it again (8 times
/// per call at any thread count).
Buffer&
SharedPacking()
{
    static Buffer packed;
    return packed;
}

/// Packs op(B) (k x n, rhs) or op(A) (m x k) whole into `dst`: k-blocks of kcMax, each block's
/// columns (rows) in one run, so that the columns [j2, j2 + nc) of block k2 (j2 and nc multiples
/// of nr, or reaching n) start at k2 n + j2 kc and read exactly as Eigen's packing of those
/// columns alone; likewise rows in runs of mr at k2 m + i2 kc. A pure copy, split into tasks of
/// 16 panels per k-block.
void
PackShared(bool rhs, bool trans, Index extent, Index k, Index kcMax, const float* src, Index ld,
           float* dst)
{
    const Index panel = 16 * (rhs ? Traits::nr : Traits::mr); // tasks start on panel boundaries
    const Index kBlocks = (k + kcMax - 1) / kcMax;
    const Index chunks = (extent + panel - 1) / panel;
    auto pack = [&](int64_t t) {
        const Index k2 = t / chunks * kcMax;
        const Index e2 = t % chunks * panel;
        const Index kc = std::min(k2 + kcMax, k) - k2;
        const Index ec = std::min(e2 + panel, extent) - e2;
        float* at = dst + k2 * extent + e2 * kc;
        if (rhs && trans)
            PackRhs<Eigen::RowMajor>(at, src, ld, k2, e2, kc, ec);
        else if (rhs)
            PackRhs<Eigen::ColMajor>(at, src, ld, k2, e2, kc, ec);
        else if (trans)
            PackLhs<Eigen::RowMajor>(at, src, ld, e2, k2, kc, ec);
        else
            PackLhs<Eigen::ColMajor>(at, src, ld, e2, k2, kc, ec);
    };
    if (InPoolTask() || static_cast<size_t>(extent * k) < PARALLEL_MIN_WORK)
    {
        for (int64_t t = 0; t < kBlocks * chunks; ++t)
        {
            pack(t);
        }
        return;
    }
    RunTasks(kBlocks * chunks, [&](int64_t t, int) { pack(t); });
}

/// C (m x n) += op(A) op(B) with op(B) (sharedRhs) or op(A) packed by PackShared, the other
/// operand (`other`, transposed with `trans`) packed here: Eigen's sequential loop
/// (GeneralMatrixMatrix.h) with Eigen's blocking for this m x n x k, so every element is summed
/// in the same order as by general_matrix_matrix_product on the tile. Its k-blocking depends on k
/// only; its mc is a multiple of mr or at least m, its nc a multiple of nr, so its blocks are
/// runs of the shared packing.
void
RunShared(bool sharedRhs, bool trans, Index m, Index n, Index k, const float* packed, Index kcMax,
          const float* other, Index ld, float* c, Index ldc, Workspace& ws)
{
    ws.Prepare(m, n, k);
    SLSIM_ASSERT(ws.kc() == kcMax);
    SLSIM_ASSERT(ws.mc() >= m || ws.mc() % Traits::mr == 0);
    SLSIM_ASSERT(ws.nc() >= n || ws.nc() % Traits::nr == 0);
    RunBlocks(
        m, n, k, ws,
        [&](Index i2, Index k2, Index kc, Index mc) {
            if (!sharedRhs)
            {
                return packed + k2 * m + i2 * kc;
            }
            (trans ? PackLhs<Eigen::RowMajor> : PackLhs<Eigen::ColMajor>)(ws.blockA(), other, ld,
                                                                          i2, k2, kc, mc);
            return static_cast<const float*>(ws.blockA());
        },
        [&](Index, Index k2, Index j2, Index kc, Index nc) {
            if (sharedRhs)
            {
                return packed + k2 * n + j2 * kc;
            }
            (trans ? PackRhs<Eigen::RowMajor> : PackRhs<Eigen::ColMajor>)(ws.blockB(), other, ld,
                                                                          k2, j2, kc, nc);
            return static_cast<const float*>(ws.blockB());
        },
        c, ldc);
}

// Below this many multiply-adds a GEMM is one tile (waking threads would cost more).
constexpr double PARALLEL_MIN_MACS = 1 << 19;
// Tiles of a larger GEMM: a fixed count (never the thread count, so that every result element is
// computed by the same kernel path whatever the threads), enough for 2-4 threads to balance.
constexpr int64_t GEMM_TILES = 8;

} // namespace

// With AVX2 + FMA our micro-kernel does the full 24 x 4 tiles and Eigen's kernel the ragged rows
// and columns (rows m3.. go through its 16-, 8-, 4- and 1-row paths, the 8-row one with split
// accumulators): every element is summed as by Eigen's kernel on the whole block, which is
// called in each path on a sub-block that starts on a panel boundary. Other builds: Eigen's.
void
MultiplyPackedBlocks(const float* blockA, const float* blockB, int64_t mc, int64_t kc, int64_t nc,
                     float* c, int64_t ldc)
{
    const ResMapper res(c, ldc);
    Kernel gebp;
#if SLSIM_GEMM_OWN_KERNEL
    const Index m3 = mc / 24 * 24;
    const Index n4 = nc / 4 * 4;
    // Eigen's order: a 24-row panel of A (kc <= 288 floats deep: <= 27 KiB) stays in L1 while the
    // 4-column panels of B pass. The next A panel comes from L3 when the packed A is shared by
    // the tiles of a Gemm (256x512x4608: 0.87 -> 0.95 of OpenBLAS): it is prefetched into L2
    // during this panel's kernels, a part per kernel.
    const Index panelsB = n4 / 4;
    const Index linesA = 24 * kc / 16; // 64-byte lines of an A panel
    const Index linesPerKernel = panelsB > 0 ? (linesA + panelsB - 1) / panelsB : 0;
    // not with few B panels: a prefetch every few k would cost more than it saves (vgg19 w0.25,
    // n = 16: -5 % steps/s)
    const bool prefetchA = panelsB >= 12;
    for (Index i = 0; i < m3; i += 24)
    {
        const float* nextA = blockA + (i + 24) * kc;
        for (Index j = 0; j < n4; j += 4)
        {
            if (prefetchA && i + 24 < m3)
            {
                const Index l0 = j / 4 * linesPerKernel;
                const Index l1 = std::min(linesA, l0 + linesPerKernel);
                for (Index l = l0; l < l1; ++l)
                {
                    _mm_prefetch(reinterpret_cast<const char*>(nextA + 16 * l), _MM_HINT_T1);
                }
            }
            const Index nextI = j + 4 < n4 || i + 24 == m3 ? i : i + 24;
            const float* nextC = c + nextI + (j + 4 < n4 ? j + 4 : 0) * ldc;
            MicroKernel(blockA + i * kc, blockB + j * kc, kc, c + i + j * ldc, ldc, nextC);
        }
    }
    if (n4 < nc && m3 > 0)
    {
        gebp(res.getSubMapper(0, n4), blockA, blockB + n4 * kc, m3, kc, nc - n4, 1.0f);
    }
    if (m3 < mc)
    {
        gebp(res.getSubMapper(m3, 0), blockA + m3 * kc, blockB, mc - m3, kc, nc, 1.0f);
    }
#else
    gebp(res, blockA, blockB, mc, kc, nc, 1.0f);
#endif
}

void
PackedRhs::Pack(bool transB, int64_t m, int64_t n, int64_t k, const float* b, int64_t ldb)
{
    m_m = m;
    m_n = n;
    m_k = k;
    Blocking(m, n, k, m_kc, m_mc, m_nc);
    if (m_packed.size() < static_cast<size_t>(n * k))
    {
        m_packed.resize(static_cast<size_t>(n * k));
    }
    // block (k2, j2) of kc x nc at k2 n + j2 kc: blocks of one k-panel side by side
    for (Index k2 = 0; k2 < k; k2 += m_kc)
    {
        const Index kc = std::min(k2 + m_kc, k) - k2;
        for (Index j2 = 0; j2 < n; j2 += m_nc)
        {
            const Index nc = std::min(j2 + m_nc, n) - j2;
            float* dst = m_packed.data() + k2 * n + j2 * kc;
            if (transB)
                PackRhs<Eigen::RowMajor>(dst, b, ldb, k2, j2, kc, nc);
            else
                PackRhs<Eigen::ColMajor>(dst, b, ldb, k2, j2, kc, nc);
        }
    }
}

template <class PackA>
void
PackedRhs::Run(PackA&& pack, int64_t rows, float* c, int64_t ldc) const
{
    SLSIM_ASSERT(rows <= m_m);
    if (rows <= 0 || m_n <= 0 || m_k <= 0)
    {
        return;
    }
    float* blockA
        = Workspaces()[static_cast<size_t>(PoolTask())]->Lhs(static_cast<size_t>(m_kc * m_mc));
    // Eigen's sequential GEMM loop (GeneralMatrixMatrix.h) with B already packed
    for (Index i2 = 0; i2 < rows; i2 += m_mc)
    {
        const Index mc = std::min<Index>(i2 + m_mc, rows) - i2;
        for (Index k2 = 0; k2 < m_k; k2 += m_kc)
        {
            const Index kc = std::min(k2 + m_kc, m_k) - k2;
            pack(blockA, i2, k2, kc, mc);
            for (Index j2 = 0; j2 < m_n; j2 += m_nc)
            {
                const Index nc = std::min(j2 + m_nc, m_n) - j2;
                MultiplyPackedBlocks(blockA, m_packed.data() + k2 * m_n + j2 * kc, mc, kc, nc,
                                     c + i2 + j2 * ldc, ldc);
            }
        }
    }
}

void
PackedRhs::MultiplyAdd(bool transA, const float* a, int64_t lda, float* c, int64_t ldc) const
{
    Run(
        [&](float* blockA, Index i2, Index k2, Index kc, Index mc) {
            if (transA)
                PackLhs<Eigen::RowMajor>(blockA, a, lda, i2, k2, kc, mc);
            else
                PackLhs<Eigen::ColMajor>(blockA, a, lda, i2, k2, kc, mc);
        },
        m_m, c, ldc);
}

void
PackedRhs::MultiplyAdd(const GatherMatrix& a, float* c, int64_t ldc) const
{
    MultiplyAdd(a, m_m, c, ldc);
}

void
PackedRhs::MultiplyAdd(const GatherMatrix& a, int64_t rows, float* c, int64_t ldc) const
{
    Run(
        [&](float* blockA, Index i2, Index k2, Index kc, Index mc) {
            Eigen::internal::gemm_pack_lhs<float, Index, GatherMapper, Traits::mr,
                                           Traits::LhsProgress, typename Traits::LhsPacket4Packing,
                                           Eigen::ColMajor>
                pack;
            pack(blockA, GatherMapper(a, i2, k2), kc, mc);
        },
        rows, c, ldc);
}

void
GemmGatheredRhs(bool transA, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                const GatherMatrix& b, float* c, int64_t ldc, bool accumulate)
{
    if (m <= 0 || n <= 0)
    {
        return;
    }
    if (!accumulate)
    {
        for (int64_t j = 0; j < n; ++j)
        {
            std::memset(c + j * ldc, 0, sizeof(float) * static_cast<size_t>(m));
        }
    }
    if (k <= 0)
    {
        return;
    }
    Workspace& ws = *Workspaces()[static_cast<size_t>(PoolTask())];
    ws.Prepare(m, n, k);
    const Index kcMax = ws.kc();
    const Index mcMax = std::min<Index>(m, ws.mc());
    const Index ncMax = std::min<Index>(n, ws.nc());
    Eigen::internal::gemm_pack_rhs<float, Index, GatherMapper, Traits::nr, Eigen::ColMajor> packB;
    for (Index i2 = 0; i2 < m; i2 += mcMax)
    {
        const Index mc = std::min<Index>(i2 + mcMax, m) - i2;
        for (Index k2 = 0; k2 < k; k2 += kcMax)
        {
            const Index kc = std::min<Index>(k2 + kcMax, k) - k2;
            if (transA)
                PackLhs<Eigen::RowMajor>(ws.blockA(), a, lda, i2, k2, kc, mc);
            else
                PackLhs<Eigen::ColMajor>(ws.blockA(), a, lda, i2, k2, kc, mc);
            for (Index j2 = 0; j2 < n; j2 += ncMax)
            {
                const Index nc = std::min<Index>(j2 + ncMax, n) - j2;
                packB(ws.blockB(), GatherMapper(b, k2, j2), kc, nc);
                MultiplyPackedBlocks(ws.blockA(), ws.blockB(), mc, kc, nc, c + i2 + j2 * ldc, ldc);
            }
        }
    }
}

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
    if (!InPoolTask())
    {
        PrepareGemmThreads(static_cast<int>(GEMM_TILES)); // in a task, the caller of RunTasks did
    }
    auto& ws = Workspaces();
    // split the larger of m, n into tiles on register-block boundaries
    const bool byRows = m >= n;
    const int64_t extent = byRows ? m : n;
    // Tiles start on Eigen's register-block boundaries (multiples of mr rows or nr columns) so
    // that every row goes through the kernel path it takes in Eigen's own product. mr is 24 on
    // AVX2, 48 on AVX-512 (24 there made rows 24-47 of a tile ragged rows: last bits differed
    // from Eigen's product, seen on a Xeon), 12 on SSE (kept at 24: its tiling is unchanged).
    const int64_t align = byRows ? std::max<int64_t>(Traits::mr, 24) : int64_t{Traits::nr};
    const int64_t blocks = (extent + align - 1) / align;
    const int64_t tiles = static_cast<double>(m) * n * k >= PARALLEL_MIN_MACS && !InPoolTask()
                              ? std::min(blocks, GEMM_TILES)
                              : 1;
    // the operand every tile reads whole packed once here instead of once per tile
    const bool shared = tiles > 1 && k > 0;
    Index kcShared = 0;
    if (shared)
    {
        Index mc = 0;
        Index nc = 0;
        Blocking(m, n, k, kcShared, mc, nc); // kc depends on k only
        PackShared(byRows, byRows ? transB : transA, byRows ? n : m, k, kcShared, byRows ? b : a,
                   byRows ? ldb : lda, Reserve(SharedPacking(), static_cast<size_t>(extent * k)));
    }
    RunTasks(tiles, [&](int64_t t, int) {
        const int64_t b0 = std::min(extent, blocks * t / tiles * align);
        const int64_t b1 = std::min(extent, blocks * (t + 1) / tiles * align);
        if (b1 <= b0)
        {
            return;
        }
        const int64_t rows = byRows ? b1 - b0 : m;
        const int64_t cols = byRows ? n : b1 - b0;
        const float* at = byRows ? (transA ? a + b0 * lda : a + b0) : a;
        const float* bt = byRows ? b : (transB ? b + b0 : b + b0 * ldb);
        float* ct = byRows ? c + b0 : c + b0 * ldc;
        if (!accumulate)
        {
            for (int64_t j = 0; j < cols; ++j)
            {
                std::memset(ct + j * ldc, 0, sizeof(float) * static_cast<size_t>(rows));
            }
        }
        if (shared)
        {
            RunShared(byRows, byRows ? transA : transB, rows, cols, k, SharedPacking().data(),
                      kcShared, byRows ? at : bt, byRows ? lda : ldb, ct, ldc,
                      *ws[static_cast<size_t>(PoolTask())]);
        }
        else if (k > 0)
        {
            RunTile(transA, transB, rows, cols, k, at, lda, bt, ldb, ct, ldc,
                    *ws[static_cast<size_t>(PoolTask())]);
        }
    });
}

} // namespace slsim
