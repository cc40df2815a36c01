// The bias-corrected squared distance correlation (models/distance-correlation.h) against NumPy
// and its closed-form cases.
#include "common/rng.h"
#include "models/distance-correlation.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using namespace slsim;

namespace
{

std::vector<float>
Gaussian(Rng& rng, size_t n)
{
    std::vector<float> v(n);
    for (float& x : v)
    {
        x = static_cast<float>(rng.Normal());
    }
    return v;
}

} // namespace

TEST_CASE("distance correlation: R*_n equals a NumPy computation from the definition", "[models]")
{
    // 7 samples in 3 and 2 dimensions; expected value from the definition written directly in
    // NumPy (pairwise distances, U-centring, the ratio of inner products), float64:
    //   A = a - a.sum(1)[:, None]/(n-2) - a.sum(1)[None, :]/(n-2) + a.sum()/((n-1)(n-2)),
    //   diagonal 0; R = (A*B).sum() / sqrt((A*A).sum() (B*B).sum())  ->  0.6435212090690484
    const std::vector<float> x = {0, 1, 2, 1, 0, 0, 2, 2, 1, 3, 1, 0, 0, 0, 1, 1, 3, 2, 2, 0, 3};
    const std::vector<float> y = {1, 0, 0, 2, 3, 1, 2, 2, 0, 0, 4, 1, 1, 3};
    CHECK(BiasCorrectedDcorSq(x.data(), 3, y.data(), 2, 7)
          == Approx(0.6435212090690484).epsilon(1e-12));
    CHECK(BiasCorrectedDcorSq(y.data(), 2, x.data(), 3, 7)
          == Approx(0.6435212090690484).epsilon(1e-12));
}

TEST_CASE("distance correlation: 1 for a set with itself or a similarity transform of it",
          "[models]")
{
    Rng rng(3, "test");
    const int n = 64;
    const std::vector<float> x = Gaussian(rng, n * 10);
    CHECK(BiasCorrectedDcorSq(x.data(), 10, x.data(), 10, n) == Approx(1.0).epsilon(1e-12));
    std::vector<float> scaled(x), permuted(x.size());
    for (float& v : scaled)
    {
        v = 0.25f * v - 3.0f; // a power-of-two scale: exact in float
    }
    for (int i = 0; i < n; ++i)
    {
        for (int k = 0; k < 10; ++k)
        {
            // coordinates reordered and one negated: an orthogonal map of every sample
            permuted[i * 10 + k] = (k == 0 ? -1.0f : 1.0f) * x[i * 10 + (k + 3) % 10];
        }
    }
    CHECK(BiasCorrectedDcorSq(x.data(), 10, scaled.data(), 10, n) == Approx(1.0).epsilon(1e-9));
    CHECK(BiasCorrectedDcorSq(x.data(), 10, permuted.data(), 10, n) == Approx(1.0).epsilon(1e-9));
    // invariance of R*_n(X, Y) to scaling either side
    const std::vector<float> y = Gaussian(rng, n * 4);
    std::vector<float> y2(y);
    for (float& v : y2)
    {
        v *= 8.0f;
    }
    const double r = BiasCorrectedDcorSq(x.data(), 10, y.data(), 4, n);
    CHECK(BiasCorrectedDcorSq(scaled.data(), 10, y2.data(), 4, n) == Approx(r).margin(1e-9));
}

TEST_CASE("distance correlation: about 0 for independent high-dimensional samples", "[models]")
{
    // n = 256 samples of 784 and 64 dimensions (an MNIST image against a small cut). Under
    // independence sqrt(v - 1) R / sqrt(1 - R^2), v = n(n-3)/2, is about Student-t (Szekely and
    // Rizzo 2013), so R has a standard deviation near 1/sqrt(v) = 0.0056: 0.03 is 5 of them. The
    // V-statistic dCor would be far from 0 here (its bias in high dimension).
    Rng rng(11, "test");
    const int n = 256;
    const std::vector<float> x = Gaussian(rng, n * 784);
    const std::vector<float> y = Gaussian(rng, n * 64);
    const double r = BiasCorrectedDcorSq(x.data(), 784, y.data(), 64, n);
    CHECK(std::abs(r) < 0.03);
    // A dependent but uncorrelated pair, y = x^2 for a one-dimensional x, is clearly seen
    // (the NumPy definition above gives 0.27 for one draw of 256).
    std::vector<float> x1(x.begin(), x.begin() + n), sq(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
    {
        sq[static_cast<size_t>(i)] = x1[static_cast<size_t>(i)] * x1[static_cast<size_t>(i)];
    }
    CHECK(BiasCorrectedDcorSq(x1.data(), 1, sq.data(), 1, n) > 0.15);
}

TEST_CASE("distance correlation: 0 when a set has no spread", "[models]")
{
    const std::vector<float> x = {1, 2, 3, 4, 5, 6};
    const std::vector<float> same(6, 2.5f);
    CHECK(BiasCorrectedDcorSq(x.data(), 1, same.data(), 1, 6) == 0.0);
}
