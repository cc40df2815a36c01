// ResNet basic block (and the paper's plain shallow-cut block), composed of sub-layers.
#include "models/layers.h"
#include "models/thread-pool.h"

namespace slsim
{

namespace
{

/// y = max(a + b, 0); NaN propagates.
void
AddRelu(float* __restrict y, const float* __restrict a, const float* __restrict b, int64_t n)
{
    for (int64_t i = 0; i < n; ++i)
    {
        const float v = a[i] + b[i];
        y[i] = v < 0.0f ? 0.0f : v;
    }
}

void
Add(float* __restrict y, const float* __restrict a, const float* __restrict b, int64_t n)
{
    for (int64_t i = 0; i < n; ++i)
    {
        y[i] = a[i] + b[i];
    }
}

} // namespace

BasicBlock::BasicBlock(Shape input, int planes, int stride, bool plain)
    : Layer(std::move(input)),
      m_plain(plain),
      m_outNumel(0)
{
    SLSIM_ASSERT(m_input.Rank() == 3);
    const int inPlanes = static_cast<int>(m_input.dims[0]);
    m_conv1 = std::make_unique<Conv2d>(m_input, planes, 3, stride, 1, false);
    m_bn1 = std::make_unique<BatchNorm2d>(m_conv1->OutputShape());
    m_relu1 = std::make_unique<ReLU>(m_bn1->OutputShape());
    if (!plain)
    {
        m_bn1->FuseRelu(); // bn1 -> relu1 in one pass each way, bit-identical
        m_relu1->SetPassThrough();
    }
    m_conv2 = std::make_unique<Conv2d>(m_bn1->OutputShape(), planes, 3, 1, 1, false);
    m_bn2 = std::make_unique<BatchNorm2d>(m_conv2->OutputShape());
    if (!plain && (stride != 1 || inPlanes != planes))
    {
        m_dsConv = std::make_unique<Conv2d>(m_input, planes, 1, stride, 0, false);
        m_dsBn = std::make_unique<BatchNorm2d>(m_dsConv->OutputShape());
    }
    m_outNumel = m_bn2->OutputShape().Numel();
    OnModuleName();
}

void
BasicBlock::OnModuleName()
{
    const std::string p = m_moduleName.empty() ? "" : m_moduleName + ".";
    m_conv1->SetModuleName(p + "conv1");
    m_bn1->SetModuleName(p + "bn1");
    m_conv2->SetModuleName(p + "conv2");
    m_bn2->SetModuleName(p + "bn2");
    if (m_dsConv)
    {
        m_dsConv->SetModuleName(p + "downsample.0");
        m_dsBn->SetModuleName(p + "downsample.1");
    }
}

Shape
BasicBlock::OutputShape() const
{
    return m_bn2->OutputShape();
}

size_t
BasicBlock::ParameterCount() const
{
    size_t n = m_conv1->ParameterCount() + m_bn1->ParameterCount() + m_conv2->ParameterCount()
               + m_bn2->ParameterCount();
    if (m_dsConv)
    {
        n += m_dsConv->ParameterCount() + m_dsBn->ParameterCount();
    }
    return n;
}

size_t
BasicBlock::BufferCount() const
{
    return m_bn1->BufferCount() + m_bn2->BufferCount() + (m_dsBn ? m_dsBn->BufferCount() : 0);
}

void
BasicBlock::Bind(float* params, float* grads, float* buffers)
{
    // torchvision state_dict order: conv1, bn1, conv2, bn2, downsample.0, downsample.1
    Layer* parts[]
        = {m_conv1.get(), m_bn1.get(), m_conv2.get(), m_bn2.get(), m_dsConv.get(), m_dsBn.get()};
    for (Layer* l : parts)
    {
        if (l)
        {
            l->Bind(params, grads, buffers);
            params += l->ParameterCount();
            grads += l->ParameterCount();
            buffers += l->BufferCount();
        }
    }
}

void
BasicBlock::Init(Rng& rng)
{
    Layer* parts[]
        = {m_conv1.get(), m_bn1.get(), m_conv2.get(), m_bn2.get(), m_dsConv.get(), m_dsBn.get()};
    for (Layer* l : parts)
    {
        if (l)
        {
            l->Init(rng);
        }
    }
}

const float*
BasicBlock::Forward(const float* input, int batch, bool training)
{
    m_x = input;
    m_batch = batch;
    const float* h = m_conv1->Forward(input, batch, training);
    h = m_bn1->Forward(h, batch, training);
    if (!m_plain)
    {
        h = m_relu1->Forward(h, batch, training);
    }
    h = m_conv2->Forward(h, batch, training);
    h = m_bn2->Forward(h, batch, training);
    const auto n = static_cast<int64_t>(batch * m_outNumel);
    float* out = Reserve(m_out, static_cast<size_t>(n));
    const float* s = m_plain ? nullptr : input;
    if (m_dsConv)
    {
        s = m_dsBn->Forward(m_dsConv->Forward(input, batch, training), batch, training);
    }
    ParallelBlocks(n, static_cast<size_t>(n), [&](int64_t lo, int64_t hi) {
        if (s)
        {
            AddRelu(out + lo, h + lo, s + lo, hi - lo); // y = relu(F(x) + S(x))
        }
        else
        {
            ReluForward(out + lo, h + lo, hi - lo); // plain: y = relu(F(x))
        }
    });
    return m_out.data();
}

const float*
BasicBlock::Backward(const float* gradOutput, bool needInputGradient)
{
    const auto n = static_cast<int64_t>(m_batch * m_outNumel);
    float* gOut = Reserve(m_gradOut, static_cast<size_t>(n));
    const float* y = m_out.data();
    ParallelBlocks(n, static_cast<size_t>(n), [&](int64_t lo, int64_t hi) {
        ReluBackward(gOut + lo, gradOutput + lo, y + lo, hi - lo); // through the final ReLU
    });
    const float* h = m_bn2->Backward(m_gradOut.data(), true);
    h = m_conv2->Backward(h, true);
    if (!m_plain)
    {
        h = m_relu1->Backward(h, true);
    }
    h = m_bn1->Backward(h, true);
    const float* gx = m_conv1->Backward(h, needInputGradient);
    const float* gs = nullptr;
    if (m_dsConv)
    {
        gs = m_dsConv->Backward(m_dsBn->Backward(m_gradOut.data(), true), needInputGradient);
    }
    else if (!m_plain)
    {
        gs = m_gradOut.data(); // identity shortcut
    }
    if (!needInputGradient)
    {
        return nullptr;
    }
    if (!gs)
    {
        return gx; // plain block: dx = dF/dx g
    }
    const auto ni = static_cast<int64_t>(m_batch * m_input.Numel());
    float* gin = Reserve(m_gradIn, static_cast<size_t>(ni));
    ParallelBlocks(ni, static_cast<size_t>(ni), [&](int64_t lo, int64_t hi) {
        Add(gin + lo, gx + lo, gs + lo, hi - lo); // dx = dF/dx g + dS/dx g
    });
    return m_gradIn.data();
}

Flops
BasicBlock::FlopsPerSample() const
{
    Flops f;
    const Layer* parts[] = {m_conv1.get(), m_bn1.get(),    m_relu1.get(), m_conv2.get(),
                            m_bn2.get(),   m_dsConv.get(), m_dsBn.get()};
    for (const Layer* l : parts)
    {
        if (l && !(m_plain && l == m_relu1.get()))
        {
            const Flops p = l->FlopsPerSample();
            f.forward += p.forward;
            f.backward += p.backward;
        }
    }
    const double outN = static_cast<double>(OutputShape().Numel());
    f.forward += 2.0 * outN; // residual add + final ReLU
    f.backward += 2.0 * outN;
    return f;
}

void
BasicBlock::AppendTensors(std::vector<NamedTensor>& out)
{
    Layer* parts[]
        = {m_conv1.get(), m_bn1.get(), m_conv2.get(), m_bn2.get(), m_dsConv.get(), m_dsBn.get()};
    for (Layer* l : parts)
    {
        if (l)
        {
            l->AppendTensors(out);
        }
    }
}

} // namespace slsim
