// Element-wise layers: ReLU and Dropout.
#include "models/layers.h"
#include "models/thread-pool.h"

namespace slsim
{

void
ReluForward(float* __restrict y, const float* __restrict x, int64_t n)
{
    for (int64_t i = 0; i < n; ++i)
    {
        y[i] = x[i] < 0.0f ? 0.0f : x[i]; // y = max(x, 0); NaN propagates
    }
}

void
ReluBackward(float* __restrict dx, const float* __restrict g, const float* __restrict y, int64_t n)
{
    for (int64_t i = 0; i < n; ++i)
    {
        dx[i] = y[i] > 0.0f ? g[i] : 0.0f; // dx = g [y > 0]
    }
}

const float*
ReLU::Forward(const float* input, int batch, bool)
{
    m_batch = batch;
    if (m_passThrough)
    {
        return input; // rectified by the layer before (BatchNorm2d::FuseRelu)
    }
    const auto n = static_cast<int64_t>(batch * m_input.Numel());
    float* out = Reserve(m_out, static_cast<size_t>(n));
    ParallelBlocks(n, static_cast<size_t>(n),
                   [&](int64_t lo, int64_t hi) { ReluForward(out + lo, input + lo, hi - lo); });
    return out;
}

const float*
ReLU::Backward(const float* gradOutput, bool needInputGradient)
{
    if (!needInputGradient)
    {
        return nullptr;
    }
    if (m_passThrough)
    {
        return gradOutput; // masked by the layer before (BatchNorm2d::FuseRelu)
    }
    const auto n = static_cast<int64_t>(m_batch * m_input.Numel());
    const float* y = m_out.data();
    float* gradIn = Reserve(m_gradIn, static_cast<size_t>(n));
    ParallelBlocks(n, static_cast<size_t>(n), [&](int64_t lo, int64_t hi) {
        ReluBackward(gradIn + lo, gradOutput + lo, y + lo, hi - lo);
    });
    return gradIn;
}

Flops
ReLU::FlopsPerSample() const
{
    const double n = static_cast<double>(m_input.Numel());
    return {n, n};
}

Dropout::Dropout(Shape input, double p, uint64_t seed, uint64_t streamIndex)
    : Layer(std::move(input)),
      m_p(p),
      m_rng(seed, "dropout", streamIndex)
{
    SLSIM_ASSERT(p >= 0.0 && p < 1.0);
}

const float*
Dropout::Forward(const float* input, int batch, bool training)
{
    m_training = training;
    m_batch = batch;
    if (!training || m_p == 0.0)
    {
        return input;
    }
    const size_t n = static_cast<size_t>(batch) * m_input.Numel();
    float* mask = Reserve(m_mask, n);
    float* out = Reserve(m_out, n);
    if (!m_frozen)
    {
        const float keep = static_cast<float>(1.0 / (1.0 - m_p));
        for (size_t i = 0; i < n; ++i)
        {
            mask[i] = m_rng.Uniform() < m_p ? 0.0f : keep; // m ~ Bernoulli(1 - p) / (1 - p)
        }
    }
    for (size_t i = 0; i < n; ++i)
    {
        out[i] = input[i] * mask[i]; // y = x m
    }
    return out;
}

const float*
Dropout::Backward(const float* gradOutput, bool needInputGradient)
{
    if (!needInputGradient)
    {
        return nullptr;
    }
    if (!m_training || m_p == 0.0)
    {
        return gradOutput;
    }
    const size_t n = static_cast<size_t>(m_batch) * m_input.Numel();
    float* gradIn = Reserve(m_gradIn, n);
    for (size_t i = 0; i < n; ++i)
    {
        gradIn[i] = gradOutput[i] * m_mask[i]; // dx = g m
    }
    return gradIn;
}

Flops
Dropout::FlopsPerSample() const
{
    const double n = static_cast<double>(m_input.Numel());
    return {n, n};
}

} // namespace slsim
