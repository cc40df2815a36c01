// models/gemm.h: Gemm against a double-precision reference for every transpose combination, with
// and without accumulation, on sizes that run as one tile, as row tiles (op(B) packed once for all
// tiles) and as column tiles (op(A) packed once), with several k-blocks; results that do not
// depend on the thread count; and bit identity with Eigen: the kernel (MultiplyPackedBlocks)
// against Eigen's gebp_kernel, Gemm and PackedRhs against Eigen's own product.
#include "common/rng.h"
#include "models/gemm.h"
#include "models/thread-pool.h"

#include <Eigen/Core>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace slsim;

namespace
{

struct Case
{
    int64_t m, n, k;
};

// one tile; row tiles (m >= n) with 1 and 3 k-blocks and a ragged last panel; column tiles
// (n > m) likewise; a k below the peeling factor
const Case CASES[] = {{7, 5, 9},     {200, 37, 50},  {515, 66, 700}, {301, 29, 901},
                      {33, 410, 77}, {26, 515, 650}, {90, 333, 5},   {1024, 16, 144}};

std::vector<float>
Random(size_t n, Rng& rng)
{
    std::vector<float> v(n);
    for (float& x : v)
    {
        x = static_cast<float>(rng.Normal());
    }
    return v;
}

/// C = op(A) op(B) (+ C) in double, and the bound sum_k |op(A)_ik op(B)_kj| per element.
void
Reference(bool transA, bool transB, const Case& s, const std::vector<float>& a, int64_t lda,
          const std::vector<float>& b, int64_t ldb, const std::vector<float>& c0, bool accumulate,
          std::vector<double>& ref, std::vector<double>& mag)
{
    ref.assign(static_cast<size_t>(s.m * s.n), 0.0);
    mag.assign(ref.size(), 0.0);
    for (int64_t j = 0; j < s.n; ++j)
    {
        for (int64_t i = 0; i < s.m; ++i)
        {
            double sum = accumulate ? c0[static_cast<size_t>(i + j * s.m)] : 0.0;
            double abs = std::fabs(sum);
            for (int64_t p = 0; p < s.k; ++p)
            {
                const double x = a[static_cast<size_t>(transA ? p + i * lda : i + p * lda)];
                const double y = b[static_cast<size_t>(transB ? j + p * ldb : p + j * ldb)];
                sum += x * y;
                abs += std::fabs(x * y);
            }
            ref[static_cast<size_t>(i + j * s.m)] = sum;
            mag[static_cast<size_t>(i + j * s.m)] = abs;
        }
    }
}

} // namespace

TEST_CASE("Gemm matches a double-precision reference for every shape and transpose",
          "[models][gemm]")
{
    Rng rng(7, "gemm");
    SetPoolThreads(1);
    for (const Case& s : CASES)
    {
        for (int form = 0; form < 8; ++form)
        {
            const bool transA = (form & 1) != 0;
            const bool transB = (form & 2) != 0;
            const bool accumulate = (form & 4) != 0;
            CAPTURE(s.m, s.n, s.k, transA, transB, accumulate);
            const int64_t lda = (transA ? s.k : s.m) + 3; // leading dimensions beyond the rows
            const int64_t ldb = (transB ? s.n : s.k) + 1;
            const auto a = Random(static_cast<size_t>(lda * (transA ? s.m : s.k)), rng);
            const auto b = Random(static_cast<size_t>(ldb * (transB ? s.k : s.n)), rng);
            const auto c0 = Random(static_cast<size_t>(s.m * s.n), rng);
            std::vector<float> c = c0;
            Gemm(transA, transB, s.m, s.n, s.k, a.data(), lda, b.data(), ldb, c.data(), s.m,
                 accumulate);
            std::vector<double> ref;
            std::vector<double> mag;
            Reference(transA, transB, s, a, lda, b, ldb, c0, accumulate, ref, mag);
            size_t bad = 0;
            for (size_t e = 0; e < c.size(); ++e)
            {
                // float rounding of each partial sum: a few ulps of the magnitudes summed
                if (std::fabs(c[e] - ref[e]) > 1e-6 * static_cast<double>(s.k) * mag[e] + 1e-6)
                {
                    ++bad;
                }
            }
            REQUIRE(bad == 0);
        }
    }
}

TEST_CASE("Gemm gives bit-identical results at 1, 2 and 3 threads", "[models][gemm][threads]")
{
    Rng rng(8, "gemm");
    for (const Case& s : CASES)
    {
        for (int form = 0; form < 4; ++form)
        {
            const bool transA = (form & 1) != 0;
            const bool transB = (form & 2) != 0;
            CAPTURE(s.m, s.n, s.k, transA, transB);
            const int64_t lda = transA ? s.k : s.m;
            const int64_t ldb = transB ? s.n : s.k;
            const auto a = Random(static_cast<size_t>(s.m * s.k), rng);
            const auto b = Random(static_cast<size_t>(s.k * s.n), rng);
            std::vector<float> first;
            for (int threads : {1, 2, 3})
            {
                SetPoolThreads(threads);
                std::vector<float> c(static_cast<size_t>(s.m * s.n), 1.0f);
                Gemm(transA, transB, s.m, s.n, s.k, a.data(), lda, b.data(), ldb, c.data(), s.m,
                     true);
                if (first.empty())
                {
                    first = c;
                }
                REQUIRE(std::memcmp(c.data(), first.data(), sizeof(float) * c.size()) == 0);
            }
        }
    }
    SetPoolThreads(1);
}

TEST_CASE("PackedRhs products are bit-identical to Eigen's own product", "[models][gemm]")
{
    // Gemm packs a col-major A itself (models/gemm.cc PackLhs) into Eigen's layout; any
    // difference in the layout or the summation order shows here. Ragged panels, several k-blocks
    // and leading dimensions of 1024 floats (the case the packing is written for).
    Rng rng(9, "gemm");
    SetPoolThreads(1);
    PrepareGemmThreads(1); // PackedRhs runs on the workspace of the calling task
    const Case cases[] = {{1024, 64, 576}, {517, 40, 1300}, {131, 9, 700}, {48, 33, 64}};
    for (const Case& s : cases)
    {
        for (const int64_t lda : {s.m, int64_t{1024} * ((s.m + 1023) / 1024), s.m + 5})
        {
            CAPTURE(s.m, s.n, s.k, lda);
            const auto a = Random(static_cast<size_t>(lda * s.k), rng);
            const auto b = Random(static_cast<size_t>(s.k * s.n), rng);
            const auto c0 = Random(static_cast<size_t>(s.m * s.n), rng);
            PackedRhs rhs;
            rhs.Pack(false, s.m, s.n, s.k, b.data(), s.k);
            std::vector<float> ours = c0;
            rhs.MultiplyAdd(false, a.data(), lda, ours.data(), s.m);
            using Stride = Eigen::OuterStride<>;
            const Eigen::Map<const Eigen::MatrixXf, 0, Stride> ma(a.data(), s.m, s.k, Stride(lda));
            const Eigen::Map<const Eigen::MatrixXf> mb(b.data(), s.k, s.n);
            Eigen::MatrixXf eigen = Eigen::Map<const Eigen::MatrixXf>(c0.data(), s.m, s.n);
            eigen.noalias() += ma * mb;
            REQUIRE(std::memcmp(ours.data(), eigen.data(), sizeof(float) * ours.size()) == 0);
        }
    }
}

TEST_CASE("Gemm is bit-identical to Eigen's own product", "[models][gemm]")
{
    // below the parallel threshold Gemm runs Eigen's loop itself (models/gemm.cc RunTile)
    // (and so do multi-tile products: the tiles start on register-block boundaries and share
    // Eigen's k-blocking); edge sizes of the micro-kernel: k = 1, ragged rows and columns, several
    // k-blocks; with and without accumulation
    Rng rng(10, "gemm");
    SetPoolThreads(1);
    const Case cases[] = {{100, 20, 200}, {1024, 3, 150}, {50, 40, 250},  {24, 4, 1},    {25, 5, 1},
                          {47, 9, 17},    {30, 8, 1000},  {300, 70, 700}, {70, 301, 290}};
    for (const Case& s : cases)
    {
        for (int form = 0; form < 8; ++form)
        {
            const bool transA = (form & 1) != 0;
            const bool transB = (form & 2) != 0;
            const bool accumulate = (form & 4) != 0;
            CAPTURE(s.m, s.n, s.k, transA, transB, accumulate);
            const auto a = Random(static_cast<size_t>(s.m * s.k), rng);
            const auto b = Random(static_cast<size_t>(s.k * s.n), rng);
            const auto c0 = Random(static_cast<size_t>(s.m * s.n), rng);
            std::vector<float> ours = c0;
            Gemm(transA, transB, s.m, s.n, s.k, a.data(), transA ? s.k : s.m, b.data(),
                 transB ? s.n : s.k, ours.data(), s.m, accumulate);
            const Eigen::Map<const Eigen::MatrixXf> ma(a.data(), transA ? s.k : s.m,
                                                       transA ? s.m : s.k);
            const Eigen::Map<const Eigen::MatrixXf> mb(b.data(), transB ? s.n : s.k,
                                                       transB ? s.k : s.n);
            Eigen::MatrixXf eigen = Eigen::MatrixXf::Zero(s.m, s.n);
            if (accumulate)
            {
                eigen = Eigen::Map<const Eigen::MatrixXf>(c0.data(), s.m, s.n);
            }
            if (transA && transB)
                eigen.noalias() += ma.transpose() * mb.transpose();
            else if (transA)
                eigen.noalias() += ma.transpose() * mb;
            else if (transB)
                eigen.noalias() += ma * mb.transpose();
            else
                eigen.noalias() += ma * mb;
            REQUIRE(std::memcmp(ours.data(), eigen.data(), sizeof(float) * ours.size()) == 0);
        }
    }
}

TEST_CASE("The GEMM kernel sums every element as Eigen's gebp_kernel", "[models][gemm]")
{
    // MultiplyPackedBlocks (our AVX2 micro-kernel on full 24 x 4 tiles, Eigen's kernel on the
    // ragged rows and columns) against Eigen's gebp_kernel on the same packed blocks, bit for bit:
    // every row remainder (16-, 8-, 4-row paths and single rows), column remainders, depths below
    // and above the unrolling (k = 1 included), onto a random C (the accumulate path) with
    // ldc > mc.
    using Index = Eigen::Index;
    using Traits = Eigen::internal::gebp_traits<float, float>;
    using Mapper = Eigen::internal::const_blas_data_mapper<float, Index, Eigen::ColMajor>;
    using ResMapper
        = Eigen::internal::blas_data_mapper<float, Index, Eigen::ColMajor, Eigen::Unaligned, 1>;
    Eigen::internal::gemm_pack_lhs<float, Index, Mapper, Traits::mr, Traits::LhsProgress,
                                   typename Traits::LhsPacket4Packing, Eigen::ColMajor>
        packA;
    Eigen::internal::gemm_pack_rhs<float, Index, Mapper, Traits::nr, Eigen::ColMajor> packB;
    Eigen::internal::gebp_kernel<float, float, Index, ResMapper, Traits::mr, Traits::nr, false,
                                 false>
        gebp;
    using Aligned = std::vector<float, Eigen::aligned_allocator<float>>;
    Rng rng(11, "gemm");
    size_t checked = 0;
    for (const Index mc :
         {1, 3, 4, 7, 8, 12, 16, 20, 23, 24, 25, 31, 40, 47, 48, 49, 56, 72, 100, 263})
    {
        for (const Index nc : {1, 2, 3, 4, 5, 8, 11, 64})
        {
            for (const Index kc : {1, 2, 3, 4, 5, 8, 9, 17, 288})
            {
                CAPTURE(mc, nc, kc);
                const Index ldc = mc + 3;
                const auto a = Random(static_cast<size_t>(mc * kc), rng);
                const auto b = Random(static_cast<size_t>(kc * nc), rng);
                const auto c0 = Random(static_cast<size_t>(ldc * nc), rng);
                Aligned blockA(static_cast<size_t>(mc * kc));
                Aligned blockB(static_cast<size_t>(kc * nc));
                packA(blockA.data(), Mapper(a.data(), mc), kc, mc);
                packB(blockB.data(), Mapper(b.data(), kc), kc, nc);
                std::vector<float> ours = c0;
                MultiplyPackedBlocks(blockA.data(), blockB.data(), mc, kc, nc, ours.data(), ldc);
                std::vector<float> eigen = c0;
                gebp(ResMapper(eigen.data(), ldc), blockA.data(), blockB.data(), mc, kc, nc, 1.0f);
                REQUIRE(std::memcmp(ours.data(), eigen.data(), sizeof(float) * ours.size()) == 0);
                ++checked;
            }
        }
    }
    REQUIRE(checked == 20 * 8 * 9);
}
