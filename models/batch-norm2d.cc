// BatchNorm2d: per-channel normalisation over (N, H, W), as torch.nn.BatchNorm2d, optionally
// fused with the ReLU after it (FuseRelu): the normalise pass rectifies, and the backward masks
// the output gradient plane by plane into a per-thread plane, so the ReLU's passes over whole
// tensors are skipped with the same per-element operations.
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
    m_meanD.assign(static_cast<size_t>(m_c), 0.0);
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

namespace
{

// Per-plane kernels over __restrict pointers, each summing in 8 interleaved lanes combined in a
// fixed order (as SumFixedOrder), so they vectorise and their results depend only on n.

inline float
CombineLanes(const float* lane)
{
    return ((lane[0] + lane[4]) + (lane[1] + lane[5]))
           + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

/// sum_i (x_i - mu)^2
float
SquaredDeviationSum(const float* __restrict x, float mu, int n)
{
    float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
    {
        for (int j = 0; j < 8; ++j)
        {
            const float d = x[i + j] - mu;
            lane[j] += d * d;
        }
    }
    for (; i < n; ++i)
    {
        const float d = x[i] - mu;
        lane[i % 8] += d * d;
    }
    return CombineLanes(lane);
}

/// y_i = gamma (x_i - mu) is + beta, rectified (max(y_i, 0), NaN propagates) when RELU
template <bool RELU>
void
Normalise(float* __restrict y, const float* __restrict x, float mu, float is, float gamma,
          float beta, int n)
{
    for (int i = 0; i < n; ++i)
    {
        const float h = (x[i] - mu) * is; // xhat = (x - mu) / sqrt(var + eps)
        const float v = gamma * h + beta; // y = gamma xhat + beta
        y[i] = RELU && v < 0.0f ? 0.0f : v;
    }
}

/// sum_i g_i and sum_i g_i xhat_i, xhat_i = (x_i - mu) is (recomputed: the forward keeps x, not
/// xhat, which saves writing and reading a tensor).
void
GradientSums(const float* __restrict g, const float* __restrict x, float mu, float is, int n,
             float& sumG, float& sumGx)
{
    float lg[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    float lgx[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
    {
        for (int j = 0; j < 8; ++j)
        {
            lg[j] += g[i + j];
            lgx[j] += g[i + j] * ((x[i + j] - mu) * is);
        }
    }
    for (; i < n; ++i)
    {
        lg[i % 8] += g[i];
        lgx[i % 8] += g[i] * ((x[i] - mu) * is);
    }
    sumG = CombineLanes(lg);
    sumGx = CombineLanes(lgx);
}

/// dx_i = scale (g_i - meanG - xhat_i meanGx)
void
InputGradient(float* __restrict dx, const float* __restrict g, const float* __restrict x, float mu,
              float is, float scale, float meanG, float meanGx, int n)
{
    for (int i = 0; i < n; ++i)
    {
        dx[i] = scale * (g[i] - meanG - ((x[i] - mu) * is) * meanGx);
    }
}

void
Scale(float* __restrict dx, const float* __restrict g, float scale, int n)
{
    for (int i = 0; i < n; ++i)
    {
        dx[i] = scale * g[i];
    }
}

} // namespace

const float*
BatchNorm2d::Forward(const float* input, int batch, bool training)
{
    m_x = input;
    m_batch = batch;
    m_training = training;
    const size_t total = static_cast<size_t>(batch) * m_c * m_plane;
    float* out = Reserve(m_out, total);
    float* invStd = Reserve(m_invStd, static_cast<size_t>(m_c));
    float* means = Reserve(m_mean, static_cast<size_t>(m_c));
    const double count = static_cast<double>(batch) * m_plane;
    SLSIM_ASSERT_MSG(!training || count > 1, "BatchNorm2d: training needs more than one value");
    const size_t plane = static_cast<size_t>(m_plane);
    const int64_t planes = static_cast<int64_t>(batch) * m_c;
    // Every pass walks the planes (n, c) in memory order (whole pages for the hardware
    // prefetchers, where a channel's planes are C planes apart); a channel's statistics are then
    // summed over n from the per-plane sums, in the same order as a channel-by-channel walk.
    if (training)
    {
        // Per-plane sums are vectorised float reductions, accumulated across planes in double;
        // two passes (mean, then squared deviations) for a stable variance.
        float* sums = Reserve(m_planeSums, static_cast<size_t>(planes));
        ParallelFor(0, planes, total, [&](int64_t i) {
            sums[i] = SumFixedOrder(input + static_cast<size_t>(i) * plane, plane);
        });
        double* meanD = m_meanD.data();
        for (int c = 0; c < m_c; ++c)
        {
            double sum = 0;
            for (int n = 0; n < batch; ++n)
            {
                sum += sums[static_cast<size_t>(n) * m_c + c];
            }
            meanD[c] = sum / count; // mu = mean over (N, H, W)
            means[c] = static_cast<float>(meanD[c]);
        }
        ParallelFor(0, planes, total, [&](int64_t i) {
            sums[i] = SquaredDeviationSum(input + static_cast<size_t>(i) * plane, means[i % m_c],
                                          m_plane);
        });
        for (int c = 0; c < m_c; ++c)
        {
            double sq = 0;
            for (int n = 0; n < batch; ++n)
            {
                sq += sums[static_cast<size_t>(n) * m_c + c];
            }
            const double mean = meanD[c];
            const double mu = means[c];
            const double var = sq / count - (mean - mu) * (mean - mu); // biased var normalises
            // running = (1 - momentum) running + momentum batch; running_var is unbiased
            m_runMean[c]
                = static_cast<float>((1.0 - m_momentum) * m_runMean[c] + m_momentum * mean);
            m_runVar[c] = static_cast<float>((1.0 - m_momentum) * m_runVar[c]
                                             + m_momentum * var * count / (count - 1.0));
            invStd[c] = static_cast<float>(1.0 / std::sqrt(var + m_eps));
        }
    }
    else
    {
        for (int c = 0; c < m_c; ++c)
        {
            const double var = m_runVar[c];
            invStd[c] = static_cast<float>(1.0 / std::sqrt(var + m_eps));
            means[c] = static_cast<float>(static_cast<double>(m_runMean[c]));
        }
    }
    ParallelFor(0, planes, total, [&](int64_t i) {
        const auto c = static_cast<size_t>(i % m_c);
        const size_t at = static_cast<size_t>(i) * plane;
        if (m_relu)
        {
            Normalise<true>(out + at, input + at, means[c], invStd[c], m_gamma[c], m_beta[c],
                            m_plane);
        }
        else
        {
            Normalise<false>(out + at, input + at, means[c], invStd[c], m_gamma[c], m_beta[c],
                             m_plane);
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
    const float* x = m_x;
    const float* r = m_out.data(); // the rectified output: a fused ReLU's mask
    float* gradIn = needInputGradient
                        ? Reserve(m_gradIn, static_cast<size_t>(batch) * m_c * m_plane)
                        : nullptr;
    const double count = static_cast<double>(batch) * m_plane;
    const size_t work = static_cast<size_t>(batch) * m_c * m_plane;
    const size_t plane = static_cast<size_t>(m_plane);
    const int64_t planes = static_cast<int64_t>(batch) * m_c;
    const float* mean = m_mean.data();
    const float* invStd = m_invStd.data();
    // The gradient w.r.t. the normalised output of plane i: g itself, or with a fused ReLU
    // g [r > 0] written to the running thread's plane (as ReLU::Backward would, read back from
    // L1). The planes are the layer's, one per pool slot, sized before the tasks start: a
    // thread_local buffer grew on whichever worker first took a larger plane, so steps after the
    // first allocated or not depending on scheduling (test "Training steps allocate nothing").
    float* masked
        = m_relu ? Reserve(m_maskedPlanes, static_cast<size_t>(PoolThreads()) * plane) : nullptr;
    auto outputGradient = [&](int64_t i) {
        const size_t at = static_cast<size_t>(i) * plane;
        if (!m_relu)
        {
            return gradOutput + at;
        }
        float* t = masked + static_cast<size_t>(PoolSlot()) * plane;
        ReluBackward(t, gradOutput + at, r + at, m_plane); // g [r > 0]
        return static_cast<const float*>(t);
    };
    // planes in memory order (see Forward), per-plane sums, then per channel in n order
    float* sums = Reserve(m_planeSums, 2 * static_cast<size_t>(planes));
    ParallelFor(0, planes, work, [&](int64_t i) {
        const auto c = static_cast<size_t>(i % m_c);
        GradientSums(outputGradient(i), x + static_cast<size_t>(i) * plane, mean[c], invStd[c],
                     m_plane, sums[2 * i], sums[2 * i + 1]);
    });
    float* scale = Reserve(m_scale, 3 * static_cast<size_t>(m_c));
    for (int c = 0; c < m_c; ++c)
    {
        double dGamma = 0;
        double dBeta = 0;
        for (int n = 0; n < batch; ++n)
        {
            const size_t i = static_cast<size_t>(n) * m_c + c;
            dGamma += sums[2 * i + 1]; // sum g xhat
            dBeta += sums[2 * i];      // sum g
        }
        m_gGamma[c] = static_cast<float>(dGamma);
        m_gBeta[c] = static_cast<float>(dBeta);
        // training: dx = gamma invstd / M (M g - sum g - xhat sum(g xhat)); eval: the running
        // statistics are constants, dx = gamma invstd g
        scale[3 * c] = m_gamma[c] * invStd[c];
        scale[3 * c + 1] = static_cast<float>(dBeta / count);  // mean g
        scale[3 * c + 2] = static_cast<float>(dGamma / count); // mean g xhat
    }
    if (!gradIn)
    {
        return nullptr;
    }
    ParallelFor(0, planes, work, [&](int64_t i) {
        const auto c = static_cast<size_t>(i % m_c);
        const size_t at = static_cast<size_t>(i) * plane;
        const float* g = outputGradient(i);
        if (m_training)
        {
            InputGradient(gradIn + at, g, x + at, mean[c], invStd[c], scale[3 * c],
                          scale[3 * c + 1], scale[3 * c + 2], m_plane);
        }
        else
        {
            Scale(gradIn + at, g, scale[3 * c], m_plane);
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
