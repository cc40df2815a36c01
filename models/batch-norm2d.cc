// BatchNorm2d: per-channel normalisation over (N, H, W), as torch.nn.BatchNorm2d.
#include "models/layers.h"
#include "models/thread-pool.h"

#include <cmath>

namespace slsim
{

BatchNorm2d::BatchNorm2d(Shape input, double momentum, double eps)
    : Layer(std::move(input)),
      m_momentum(momentum),
      m_eps(eps)
{
    SLSIM_ASSERT(m_input.Rank() == 3);
    m_c = static_cast<int>(m_input.dims[0]);
    m_plane = static_cast<int>(m_input.dims[1] * m_input.dims[2]);
}

size_t
BatchNorm2d::ParameterCount() const
{
    return 2 * static_cast<size_t>(m_c); // weight (gamma), bias (beta)
}

size_t
BatchNorm2d::BufferCount() const
{
    return 2 * static_cast<size_t>(m_c) + 1; // running_mean, running_var, num_batches_tracked
}

void
BatchNorm2d::Bind(float* params, float* grads, float* buffers)
{
    m_gamma = params;
    m_beta = params + m_c;
    m_gGamma = grads;
    m_gBeta = grads + m_c;
    m_runMean = buffers;
    m_runVar = buffers + m_c;
    m_tracked = buffers + 2 * m_c;
}

void
BatchNorm2d::Init(Rng&)
{
    for (int c = 0; c < m_c; ++c)
    {
        m_gamma[c] = 1.0f;
        m_beta[c] = 0.0f;
        m_runMean[c] = 0.0f;
        m_runVar[c] = 1.0f;
    }
    *m_tracked = 0.0f;
}

const float*
BatchNorm2d::Forward(const float* input, int batch, bool training)
{
    m_batch = batch;
    m_training = training;
    const size_t total = static_cast<size_t>(batch) * m_c * m_plane;
    float* out = Reserve(m_out, total);
    float* xhat = Reserve(m_xhat, total);
    float* invStd = Reserve(m_invStd, static_cast<size_t>(m_c));
    const double count = static_cast<double>(batch) * m_plane;
    SLSIM_ASSERT_MSG(!training || count > 1, "BatchNorm2d: training needs more than one value");
    ParallelFor(0, m_c, static_cast<size_t>(total), [&](int64_t c64) {
        const auto c = static_cast<int>(c64);
        double mean;
        double var;
        if (training)
        {
            // Per-plane sums are vectorised float reductions, accumulated across planes in
            // double; two passes (mean, then squared deviations) for a stable variance.
            double sum = 0;
            for (int n = 0; n < batch; ++n)
            {
                sum += ConstMapVF(input + (static_cast<size_t>(n) * m_c + c) * m_plane, m_plane)
                           .sum();
            }
            mean = sum / count; // mu = mean over (N, H, W)
            const float mu = static_cast<float>(mean);
            double sq = 0;
            for (int n = 0; n < batch; ++n)
            {
                sq += (ConstMapVF(input + (static_cast<size_t>(n) * m_c + c) * m_plane, m_plane)
                           .array()
                       - mu)
                          .square()
                          .sum();
            }
            var = sq / count - (mean - mu) * (mean - mu); // biased variance normalises
            // running = (1 - momentum) running + momentum batch; running_var is unbiased
            m_runMean[c]
                = static_cast<float>((1.0 - m_momentum) * m_runMean[c] + m_momentum * mean);
            m_runVar[c] = static_cast<float>((1.0 - m_momentum) * m_runVar[c]
                                             + m_momentum * var * count / (count - 1.0));
        }
        else
        {
            mean = m_runMean[c];
            var = m_runVar[c];
        }
        const float is = static_cast<float>(1.0 / std::sqrt(var + m_eps));
        invStd[c] = is;
        const float mu = static_cast<float>(mean);
        const float gamma = m_gamma[c];
        const float beta = m_beta[c];
        for (int n = 0; n < batch; ++n)
        {
            const size_t at = (static_cast<size_t>(n) * m_c + c) * m_plane;
            for (int i = 0; i < m_plane; ++i)
            {
                const float h = (input[at + i] - mu) * is; // xhat = (x - mu) / sqrt(var + eps)
                xhat[at + i] = h;
                out[at + i] = gamma * h + beta; // y = gamma xhat + beta
            }
        }
    });
    if (training)
    {
        *m_tracked += 1.0f;
    }
    return out;
}

const float*
BatchNorm2d::Backward(const float* gradOutput, bool needInputGradient)
{
    const int batch = m_batch;
    const float* xhat = m_xhat.data();
    float* gradIn = needInputGradient
                        ? Reserve(m_gradIn, static_cast<size_t>(batch) * m_c * m_plane)
                        : nullptr;
    const double count = static_cast<double>(batch) * m_plane;
    const size_t work = static_cast<size_t>(batch) * m_c * m_plane;
    ParallelFor(0, m_c, work, [&](int64_t c64) {
        const auto c = static_cast<int>(c64);
        double dGamma = 0;
        double dBeta = 0;
        for (int n = 0; n < batch; ++n)
        {
            const size_t at = (static_cast<size_t>(n) * m_c + c) * m_plane;
            ConstMapVF g(gradOutput + at, m_plane);
            dGamma += g.dot(ConstMapVF(xhat + at, m_plane)); // sum g xhat
            dBeta += g.sum();                                // sum g
        }
        m_gGamma[c] = static_cast<float>(dGamma);
        m_gBeta[c] = static_cast<float>(dBeta);
        if (!gradIn)
        {
            return;
        }
        const float scale = m_gamma[c] * m_invStd[c];
        if (m_training)
        {
            // dx = gamma invstd / M (M g - sum g - xhat sum(g xhat))
            const float meanG = static_cast<float>(dBeta / count);
            const float meanGx = static_cast<float>(dGamma / count);
            for (int n = 0; n < batch; ++n)
            {
                const size_t at = (static_cast<size_t>(n) * m_c + c) * m_plane;
                for (int i = 0; i < m_plane; ++i)
                {
                    gradIn[at + i] = scale * (gradOutput[at + i] - meanG - xhat[at + i] * meanGx);
                }
            }
        }
        else
        {
            for (int n = 0; n < batch; ++n)
            {
                const size_t at = (static_cast<size_t>(n) * m_c + c) * m_plane;
                for (int i = 0; i < m_plane; ++i)
                {
                    gradIn[at + i] = scale * gradOutput[at + i]; // running stats are constants
                }
            }
        }
    });
    return gradIn;
}

Flops
BatchNorm2d::FlopsPerSample() const
{
    const double n = static_cast<double>(m_c) * m_plane;
    return {6.0 * n, 8.0 * n}; // forward: stats (3) + normalise/scale (3); backward: 2 sums + 4
}

void
BatchNorm2d::AppendTensors(std::vector<NamedTensor>& out)
{
    out.push_back({TensorName("weight"), Shape{m_c}, m_gamma, NamedTensor::PARAMETER});
    out.push_back({TensorName("bias"), Shape{m_c}, m_beta, NamedTensor::PARAMETER});
    out.push_back({TensorName("running_mean"), Shape{m_c}, m_runMean, NamedTensor::BUFFER});
    out.push_back({TensorName("running_var"), Shape{m_c}, m_runVar, NamedTensor::BUFFER});
    out.push_back({TensorName("num_batches_tracked"), Shape{}, m_tracked, NamedTensor::COUNTER});
}

} // namespace slsim
