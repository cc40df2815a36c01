#include "models/sequential.h"

#include "common/state-io.h"
#include "models/layers.h"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace slsim
{

namespace
{
size_t
SumParameters(const std::vector<std::unique_ptr<Layer>>& layers)
{
    size_t n = 0;
    for (const auto& l : layers)
    {
        n += l->ParameterCount();
    }
    return n;
}
} // namespace

Sequential::Sequential(std::vector<std::unique_ptr<Layer>> layers, const OptimizerConfig& opt)
    : m_layers(std::move(layers)),
      m_optimizer(opt, SumParameters(m_layers))
{
    SLSIM_ASSERT(!m_layers.empty());
    size_t np = 0;
    size_t nb = 0;
    for (size_t i = 0; i < m_layers.size(); ++i)
    {
        SLSIM_ASSERT_MSG(i == 0 || m_layers[i]->InputShape() == m_layers[i - 1]->OutputShape(),
                         "Sequential: layer shapes do not chain");
        np += m_layers[i]->ParameterCount();
        nb += m_layers[i]->BufferCount();
    }
    m_params.assign(np, 0.0f);
    m_grads.assign(np, 0.0f);
    m_buffers.assign(nb, 0.0f);
    float* p = m_params.data();
    float* g = m_grads.data();
    float* b = m_buffers.data();
    for (auto& l : m_layers)
    {
        l->Bind(p, g, b);
        p += l->ParameterCount();
        g += l->ParameterCount();
        b += l->BufferCount();
    }
    // BatchNorm2d -> ReLU (VGG's features): one pass each way instead of two, bit-identical
    for (size_t i = 0; i + 1 < m_layers.size(); ++i)
    {
        auto* bn = dynamic_cast<BatchNorm2d*>(m_layers[i].get());
        auto* relu = dynamic_cast<ReLU*>(m_layers[i + 1].get());
        if (bn && relu)
        {
            bn->FuseRelu();
            relu->SetPassThrough();
        }
    }
}

void
Sequential::InitParameters(Rng& rng)
{
    for (auto& l : m_layers)
    {
        l->Init(rng);
    }
}

Shape
Sequential::InputShape() const
{
    return m_layers.front()->InputShape();
}

Shape
Sequential::OutputShape() const
{
    return m_layers.back()->OutputShape();
}

const float*
Sequential::Forward(const float* input, int batch, bool training)
{
    SLSIM_ASSERT(batch > 0);
    m_batch = batch;
    const float* h = input;
    for (auto& l : m_layers)
    {
        h = l->Forward(h, batch, training);
    }
    return h;
}

const float*
Sequential::Backward(const float* gradOutput)
{
    SLSIM_ASSERT_MSG(m_batch > 0, "Backward before Forward");
    const float* g = gradOutput;
    for (size_t i = m_layers.size(); i-- > 0;)
    {
        g = m_layers[i]->Backward(g, i > 0 || m_needInputGradient);
    }
    return g;
}

void
Sequential::Step()
{
    m_optimizer.Step(m_params.data(), m_grads.data());
}

void
Sequential::SetLearningRate(double lr)
{
    m_optimizer.SetLearningRate(lr);
}

size_t
Sequential::ParameterCount() const
{
    return m_params.size();
}

size_t
Sequential::StateSize() const
{
    return m_params.size() + m_buffers.size();
}

void
Sequential::GetState(float* out) const
{
    std::copy(m_params.begin(), m_params.end(), out);
    std::copy(m_buffers.begin(), m_buffers.end(), out + m_params.size());
}

void
Sequential::SetState(const float* in)
{
    std::copy(in, in + m_params.size(), m_params.begin());
    std::copy(in + m_params.size(), in + StateSize(), m_buffers.begin());
}

Flops
Sequential::FlopsPerSample() const
{
    Flops f;
    for (size_t i = 0; i < m_layers.size(); ++i)
    {
        const Flops l = m_layers[i]->FlopsPerSample();
        f.forward += l.forward;
        f.backward += l.backward;
    }
    return f;
}

std::vector<NamedTensor>
Sequential::NamedTensors()
{
    std::vector<NamedTensor> out;
    for (auto& l : m_layers)
    {
        l->AppendTensors(out);
    }
    return out;
}

std::string
Sequential::Summary() const
{
    std::ostringstream s;
    s << "in " << InputShape().ToString() << "\n";
    for (size_t i = 0; i < m_layers.size(); ++i)
    {
        const Layer& l = *m_layers[i];
        s << i << "\t" << l.Type() << "\t" << l.ModuleName() << "\t" << l.OutputShape().ToString()
          << "\tparams " << l.ParameterCount() << "\tfwd_flops " << l.FlopsPerSample().forward
          << "\n";
    }
    return s.str();
}

void
Sequential::SaveTrainingState(ByteWriter& out) const
{
    m_optimizer.Save(out);
    for (const auto& layer : m_layers)
    {
        if (const Rng* rng = layer->RandomStream())
        {
            PutPod(out, *rng);
        }
    }
}

void
Sequential::LoadTrainingState(ByteReader& in)
{
    m_optimizer.Load(in);
    for (const auto& layer : m_layers)
    {
        if (Rng* rng = layer->RandomStream())
        {
            GetPod(in, *rng);
        }
    }
}

} // namespace slsim
