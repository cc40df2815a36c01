// Pooling layers: MaxPool2d and AvgPool2d (no padding).
#include "models/layers.h"
#include "models/thread-pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace slsim
{

namespace
{

/// The window's running maximum: the first maximum wins and NaN propagates (a later NaN is
/// taken), as PyTorch. Selects, not branches, so that the loops vectorise.
inline void
TakeIfGreater(float v, int32_t at, float& best, int32_t& bestAt)
{
    const bool take = v > best || v != v; // v != v: NaN
    best = take ? v : best;
    bestAt = take ? at : bestAt;
}

/// 2x2 windows, stride 2 (every VGG/ResNet pool): one output row from two input rows. Starting
/// from the first tap gives what starting from -inf does (-inf is not greater than -inf).
void
MaxPool2x2Plane(const float* __restrict x, int w, int oh, int ow, float* __restrict y,
                int32_t* __restrict a)
{
    for (int oy = 0; oy < oh; ++oy)
    {
        const float* r0 = x + static_cast<size_t>(2 * oy) * w;
        const float* r1 = r0 + w;
        const int32_t rowAt = 2 * oy * w;
        for (int ox = 0; ox < ow; ++ox)
        {
            const int32_t at = rowAt + 2 * ox;
            float best = r0[2 * ox];
            int32_t bestAt = at;
            TakeIfGreater(r0[2 * ox + 1], at + 1, best, bestAt);
            TakeIfGreater(r1[2 * ox], at + w, best, bestAt);
            TakeIfGreater(r1[2 * ox + 1], at + w + 1, best, bestAt);
            y[oy * ow + ox] = best; // y = max over the window
            a[oy * ow + ox] = bestAt;
        }
    }
}

/// dx of 2x2 stride-2 windows that tile the plane: dx = g at the window's argmax, 0 elsewhere.
void
MaxPool2x2PlaneBackward(const float* __restrict g, const int32_t* __restrict a, int w, int oh,
                        int ow, float* __restrict gx)
{
    for (int oy = 0; oy < oh; ++oy)
    {
        float* r0 = gx + static_cast<size_t>(2 * oy) * w;
        float* r1 = r0 + w;
        const int32_t rowAt = 2 * oy * w;
        for (int ox = 0; ox < ow; ++ox)
        {
            const int32_t at = rowAt + 2 * ox;
            const int32_t best = a[oy * ow + ox];
            const float v = g[oy * ow + ox] + 0.0f; // as 0 + g: -0 becomes +0
            r0[2 * ox] = best == at ? v : 0.0f;     // routed to the argmax
            r0[2 * ox + 1] = best == at + 1 ? v : 0.0f;
            r1[2 * ox] = best == at + w ? v : 0.0f;
            r1[2 * ox + 1] = best == at + w + 1 ? v : 0.0f;
        }
    }
}

} // namespace

MaxPool2d::MaxPool2d(Shape input, int kernel, int stride)
    : Layer(std::move(input)),
      m_k(kernel),
      m_stride(stride)
{
    SLSIM_ASSERT(m_input.Rank() == 3 && kernel > 0 && stride > 0);
    m_c = static_cast<int>(m_input.dims[0]);
    m_h = static_cast<int>(m_input.dims[1]);
    m_w = static_cast<int>(m_input.dims[2]);
    m_oh = (m_h - m_k) / m_stride + 1;
    m_ow = (m_w - m_k) / m_stride + 1;
    SLSIM_ASSERT_MSG(m_oh > 0 && m_ow > 0, "MaxPool2d: input smaller than the window");
}

Shape
MaxPool2d::OutputShape() const
{
    return Shape{m_c, m_oh, m_ow};
}

const float*
MaxPool2d::Forward(const float* input, int batch, bool)
{
    m_batch = batch;
    const int planes = batch * m_c;
    const size_t outPlane = static_cast<size_t>(m_oh) * m_ow;
    float* out = Reserve(m_out, planes * outPlane);
    if (m_argmax.size() < planes * outPlane)
    {
        m_argmax.resize(planes * outPlane);
    }
    int32_t* arg = m_argmax.data();
    ParallelFor(0, planes, static_cast<size_t>(planes * outPlane * m_k * m_k), [&](int64_t pl64) {
        const auto pl = static_cast<int>(pl64);
        const float* x = input + static_cast<size_t>(pl) * m_h * m_w;
        float* y = out + pl * outPlane;
        int32_t* a = arg + pl * outPlane;
        if (m_k == 2 && m_stride == 2)
        {
            MaxPool2x2Plane(x, m_w, m_oh, m_ow, y, a);
            return;
        }
        for (int oy = 0; oy < m_oh; ++oy)
        {
            for (int ox = 0; ox < m_ow; ++ox)
            {
                float best = -std::numeric_limits<float>::infinity();
                int32_t bestAt = (oy * m_stride) * m_w + ox * m_stride;
                for (int ky = 0; ky < m_k; ++ky)
                {
                    const int at = (oy * m_stride + ky) * m_w + ox * m_stride;
                    for (int kx = 0; kx < m_k; ++kx)
                    {
                        TakeIfGreater(x[at + kx], at + kx, best, bestAt);
                    }
                }
                y[oy * m_ow + ox] = best; // y = max over the window
                a[oy * m_ow + ox] = bestAt;
            }
        }
    });
    return out;
}

const float*
MaxPool2d::Backward(const float* gradOutput, bool needInputGradient)
{
    if (!needInputGradient)
    {
        return nullptr;
    }
    const int planes = m_batch * m_c;
    const size_t inPlane = static_cast<size_t>(m_h) * m_w;
    const size_t outPlane = static_cast<size_t>(m_oh) * m_ow;
    float* gradIn = Reserve(m_gradIn, planes * inPlane);
    const int32_t* arg = m_argmax.data();
    ParallelFor(0, planes, static_cast<size_t>(planes * inPlane), [&](int64_t pl64) {
        const auto pl = static_cast<int>(pl64);
        float* gx = gradIn + pl * inPlane;
        if (m_k == 2 && m_stride == 2 && m_h % 2 == 0 && m_w % 2 == 0)
        {
            // the windows tile the plane: every input is written once, no zeroing pass
            MaxPool2x2PlaneBackward(gradOutput + pl * outPlane, arg + pl * outPlane, m_w, m_oh,
                                    m_ow, gx);
            return;
        }
        std::fill(gx, gx + inPlane, 0.0f);
        for (size_t i = 0; i < outPlane; ++i)
        {
            gx[arg[pl * outPlane + i]] += gradOutput[pl * outPlane + i]; // routed to the argmax
        }
    });
    return gradIn;
}

Flops
MaxPool2d::FlopsPerSample() const
{
    const double n = static_cast<double>(m_c) * m_oh * m_ow;
    return {n * m_k * m_k, n};
}

AvgPool2d::AvgPool2d(Shape input, int kernelH, int kernelW, int stride)
    : Layer(std::move(input)),
      m_kh(kernelH),
      m_kw(kernelW),
      m_stride(stride)
{
    SLSIM_ASSERT(m_input.Rank() == 3 && kernelH > 0 && kernelW > 0 && stride > 0);
    m_c = static_cast<int>(m_input.dims[0]);
    m_h = static_cast<int>(m_input.dims[1]);
    m_w = static_cast<int>(m_input.dims[2]);
    m_oh = (m_h - m_kh) / m_stride + 1;
    m_ow = (m_w - m_kw) / m_stride + 1;
    SLSIM_ASSERT_MSG(m_oh > 0 && m_ow > 0, "AvgPool2d: input smaller than the window");
}

std::unique_ptr<AvgPool2d>
AvgPool2d::Global(const Shape& input)
{
    return std::make_unique<AvgPool2d>(input, static_cast<int>(input.dims[1]),
                                       static_cast<int>(input.dims[2]), 1);
}

Shape
AvgPool2d::OutputShape() const
{
    return Shape{m_c, m_oh, m_ow};
}

const float*
AvgPool2d::Forward(const float* input, int batch, bool)
{
    m_batch = batch;
    const int planes = batch * m_c;
    const size_t outPlane = static_cast<size_t>(m_oh) * m_ow;
    float* out = Reserve(m_out, planes * outPlane);
    const float inv = 1.0f / static_cast<float>(m_kh * m_kw);
    ParallelFor(0, planes, static_cast<size_t>(planes * outPlane * m_kh * m_kw), [&](int64_t pl64) {
        const auto pl = static_cast<int>(pl64);
        const float* x = input + static_cast<size_t>(pl) * m_h * m_w;
        for (int oy = 0; oy < m_oh; ++oy)
        {
            for (int ox = 0; ox < m_ow; ++ox)
            {
                float sum = 0.0f;
                for (int ky = 0; ky < m_kh; ++ky)
                {
                    const float* row = x + (oy * m_stride + ky) * m_w + ox * m_stride;
                    for (int kx = 0; kx < m_kw; ++kx)
                    {
                        sum += row[kx];
                    }
                }
                out[pl * outPlane + oy * m_ow + ox] = sum * inv; // y = mean over the window
            }
        }
    });
    return out;
}

const float*
AvgPool2d::Backward(const float* gradOutput, bool needInputGradient)
{
    if (!needInputGradient)
    {
        return nullptr;
    }
    const int planes = m_batch * m_c;
    const size_t inPlane = static_cast<size_t>(m_h) * m_w;
    const size_t outPlane = static_cast<size_t>(m_oh) * m_ow;
    float* gradIn = Reserve(m_gradIn, planes * inPlane);
    const float inv = 1.0f / static_cast<float>(m_kh * m_kw);
    ParallelFor(0, planes, static_cast<size_t>(planes * inPlane), [&](int64_t pl64) {
        const auto pl = static_cast<int>(pl64);
        float* gx = gradIn + pl * inPlane;
        std::fill(gx, gx + inPlane, 0.0f);
        for (int oy = 0; oy < m_oh; ++oy)
        {
            for (int ox = 0; ox < m_ow; ++ox)
            {
                const float g = gradOutput[pl * outPlane + oy * m_ow + ox] * inv; // dx = g / (k k)
                for (int ky = 0; ky < m_kh; ++ky)
                {
                    float* row = gx + (oy * m_stride + ky) * m_w + ox * m_stride;
                    for (int kx = 0; kx < m_kw; ++kx)
                    {
                        row[kx] += g;
                    }
                }
            }
        }
    });
    return gradIn;
}

Flops
AvgPool2d::FlopsPerSample() const
{
    const double n = static_cast<double>(m_c) * m_oh * m_ow;
    return {n * m_kh * m_kw, n * m_kh * m_kw};
}

} // namespace slsim
