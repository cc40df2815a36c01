// Distance correlation (Szekely, Rizzo and Bakirov 2007) between two sets of n paired samples, as
// a measure of how much a split model's cut activations reveal about its input (NoPeek,
// Vepakomma et al. 2020, uses it the same way).
//
// The estimator is the bias-corrected squared distance correlation R*_n of Szekely and Rizzo,
// "Partial distance correlation with methods for dissimilarities", Ann. Statist. 42(6), 2014
// (R's energy::bcdcor, Python's dcor.u_distance_correlation_sqr). The plain V-statistic dCor_n
// (2007) is biased towards 1 when the dimension is large against n: for independent vectors it
// tends to 1 as the dimension grows (Szekely and Rizzo, "The distance correlation t-test of
// independence in high dimension", J. Multivariate Anal. 117, 2013), and cut activations have
// hundreds to thousands of dimensions for a few hundred samples. R*_n is unbiased for the
// population dCor^2: about 0 for independent samples (it can be slightly negative), 1 for X
// with itself or with any similarity transform of X (shift, rotation, scale).
#ifndef SLSIM_MODELS_DISTANCE_CORRELATION_H
#define SLSIM_MODELS_DISTANCE_CORRELATION_H

#include <cstdint>

namespace slsim
{

/// R*_n(X, Y): x holds n samples of xDim values each (row-major, one sample after another), y n
/// samples of yDim values, paired by index. Needs n >= 4 (the U-centring divides by n - 3).
/// Returns 0 when either set has no spread (all samples equal). Cost: O(n^2 (xDim + yDim)) time
/// (two Gram matrices), O(n (xDim + yDim) + n^2) memory, in double precision.
///
///   a_ij = |x_i - x_j|,  A~_ij = a_ij - a_i./(n-2) - a_.j/(n-2) + a_../((n-1)(n-2))  (i != j),
///   A~_ii = 0;  (A~.B~) = sum_{i != j} A~_ij B~_ij / (n(n-3));
///   R*_n = (A~.B~) / sqrt((A~.A~) (B~.B~)).
double BiasCorrectedDcorSq(const float* x, int64_t xDim, const float* y, int64_t yDim, int n);

} // namespace slsim

#endif
