// models/gemm.h: Gemm against a double-precision reference for every transpose combination, with
// and without accumulation, on sizes that run as one tile, as row tiles (op(B) packed once for all
// tiles) and as column tiles (op(A) packed once), with several k-blocks; and results that do not
// depend on the thread count.
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

TEST_CASE("A one-tile Gemm is bit-identical to Eigen's own product", "[models][gemm]")
{
    // below the parallel threshold Gemm runs Eigen's loop itself (models/gemm.cc RunTile)
    Rng rng(10, "gemm");
    SetPoolThreads(1);
    const Case cases[] = {{100, 20, 200}, {1024, 3, 150}, {50, 40, 250}};
    for (const Case& s : cases)
    {
        for (int form = 0; form < 4; ++form)
        {
            const bool transA = (form & 1) != 0;
            const bool transB = (form & 2) != 0;
            CAPTURE(s.m, s.n, s.k, transA, transB);
            const auto a = Random(static_cast<size_t>(s.m * s.k), rng);
            const auto b = Random(static_cast<size_t>(s.k * s.n), rng);
            std::vector<float> ours(static_cast<size_t>(s.m * s.n));
            Gemm(transA, transB, s.m, s.n, s.k, a.data(), transA ? s.k : s.m, b.data(),
                 transB ? s.n : s.k, ours.data(), s.m, false);
            const Eigen::Map<const Eigen::MatrixXf> ma(a.data(), transA ? s.k : s.m,
                                                       transA ? s.m : s.k);
            const Eigen::Map<const Eigen::MatrixXf> mb(b.data(), transB ? s.n : s.k,
                                                       transB ? s.k : s.n);
            Eigen::MatrixXf eigen = Eigen::MatrixXf::Zero(s.m, s.n);
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
