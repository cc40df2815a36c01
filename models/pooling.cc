// Pooling layers: MaxPool2d and AvgPool2d (no padding).
#include "models/layers.h"
#include "models/thread-pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace slsim
{

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
                        // first maximum wins and NaN propagates, as PyTorch
                        if (x[at + kx] > best || std::isnan(x[at + kx]))
                        {
                            best = x[at + kx];
                            bestAt = at + kx;
                        }
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
