#include "models/distance-correlation.h"

#include "common/error.h"

#include <Eigen/Core>
#include <cmath>

namespace slsim
{

namespace
{

using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>;

/// The U-centred distance matrix of n samples of `dim` values.
MatrixD
UCentredDistances(const float* samples, int64_t dim, int n)
{
    using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::Map<const MatrixF> x(samples, n, dim);
    const MatrixD xd = x.cast<double>();
    MatrixD gram = MatrixD::Zero(n, n);
    gram.selfadjointView<Eigen::Lower>().rankUpdate(xd); // G = X X^T (lower triangle)
    MatrixD a(n, n);
    for (int j = 0; j < n; ++j)
    {
        a(j, j) = 0;
        for (int i = j + 1; i < n; ++i)
        {
            // |x_i - x_j|^2 = G_ii + G_jj - 2 G_ij (clamped: rounding can make it slightly < 0)
            const double d2 = gram(i, i) + gram(j, j) - 2 * gram(i, j);
            a(i, j) = a(j, i) = std::sqrt(std::max(d2, 0.0));
        }
    }
    const Eigen::VectorXd rows = a.rowwise().sum(); // a_i. (= a_.i: symmetric)
    const double total = rows.sum();                // a_..
    const double nd = n;
    for (int j = 0; j < n; ++j)
    {
        for (int i = 0; i < n; ++i)
        {
            // A~_ij = a_ij - a_i./(n-2) - a_.j/(n-2) + a_../((n-1)(n-2)), 0 on the diagonal
            a(i, j)
                = i == j ? 0.0
                         : a(i, j) - (rows(i) + rows(j)) / (nd - 2) + total / ((nd - 1) * (nd - 2));
        }
    }
    return a;
}

} // namespace

double
BiasCorrectedDcorSq(const float* x, int64_t xDim, const float* y, int64_t yDim, int n)
{
    SLSIM_ASSERT(n >= 4 && xDim > 0 && yDim > 0);
    const MatrixD a = UCentredDistances(x, xDim, n);
    const MatrixD b = UCentredDistances(y, yDim, n);
    // The common factor 1/(n(n-3)) of the three inner products cancels in the ratio.
    const double ab = a.cwiseProduct(b).sum();
    const double aa = a.squaredNorm();
    const double bb = b.squaredNorm();
    if (!(aa > 0) || !(bb > 0))
    {
        return 0; // a set without spread: no dependence to measure, R*_n taken as 0
    }
    return ab / std::sqrt(aa * bb); // R*_n = (A~.B~) / sqrt((A~.A~)(B~.B~))
}

} // namespace slsim
