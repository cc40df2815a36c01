// Softmax cross-entropy (mean over the batch) and top-1 accuracy.
#include "common/error.h"
#include "models/split-model.h"

#include <algorithm>
#include <cmath>

namespace slsim
{

LossResult
SoftmaxCrossEntropy(const float* logits, const int32_t* labels, int batch, int classes,
                    float* gradLogits)
{
    SLSIM_ASSERT(batch > 0 && classes > 0);
    LossResult r;
    const double invBatch = 1.0 / batch;
    for (int n = 0; n < batch; ++n)
    {
        const float* z = logits + static_cast<size_t>(n) * classes;
        const int32_t y = labels[n];
        if (y < 0 || y >= classes)
        {
            throw InputError("label " + std::to_string(y) + " of sample " + std::to_string(n)
                             + " outside [0, " + std::to_string(classes) + ")");
        }
        int argmax = 0;
        for (int k = 1; k < classes; ++k)
        {
            argmax = z[k] > z[argmax] ? k : argmax;
        }
        const double zmax = z[argmax];
        double sum = 0;
        for (int k = 0; k < classes; ++k)
        {
            sum += std::exp(z[k] - zmax);
        }
        const double logSum = zmax + std::log(sum);
        r.loss += (logSum - z[y]) * invBatch; // L = mean_n (log sum_k e^z_k - z_y)
        r.correct += argmax == y ? 1 : 0;
        if (gradLogits)
        {
            float* g = gradLogits + static_cast<size_t>(n) * classes;
            for (int k = 0; k < classes; ++k)
            {
                // dL/dz_k = (softmax_k - [k == y]) / N
                const double p = std::exp(z[k] - logSum);
                g[k] = static_cast<float>((p - (k == y ? 1.0 : 0.0)) * invBatch);
            }
        }
    }
    return r;
}

} // namespace slsim
